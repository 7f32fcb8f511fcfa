"""The typed settings model of a stack, validated once at program start."""

from ._core import DataLakeSettings, Environment, ImageSettings
from ._endpoint import EndpointSettings
from ._load import CONFIG_NAMESPACE, SettingsError, load_settings, read_pulumi_config
from ._model import ModelSettings
from ._stack import PLACEHOLDER_ACCOUNT_ID, StackSettings
from ._training import ApprovalPolicy, TrainingSettings

__all__ = [
    "CONFIG_NAMESPACE",
    "PLACEHOLDER_ACCOUNT_ID",
    "ApprovalPolicy",
    "DataLakeSettings",
    "EndpointSettings",
    "Environment",
    "ImageSettings",
    "ModelSettings",
    "SettingsError",
    "StackSettings",
    "TrainingSettings",
    "load_settings",
    "read_pulumi_config",
]
