"""The typed settings model of a stack, validated once at program start."""

from ._core import DataLakeSettings, Environment, ImageSettings
from ._endpoint import (
    AutoscalingSettings,
    DeploymentSettings,
    DeploymentStrategy,
    EndpointAlarmSettings,
    EndpointMode,
    EndpointSettings,
    RegistryStack,
    registry_of,
)
from ._load import CONFIG_NAMESPACE, SettingsError, load_settings, read_pulumi_config
from ._model import ModelSettings
from ._network import NetworkSettings, SubnetSettings
from ._stack import PLACEHOLDER_ACCOUNT_ID, StackSettings
from ._training import ApprovalPolicy, RegistrySettings, TrainingSettings

__all__ = [
    "CONFIG_NAMESPACE",
    "PLACEHOLDER_ACCOUNT_ID",
    "ApprovalPolicy",
    "AutoscalingSettings",
    "DataLakeSettings",
    "DeploymentSettings",
    "DeploymentStrategy",
    "EndpointAlarmSettings",
    "EndpointMode",
    "EndpointSettings",
    "Environment",
    "ImageSettings",
    "ModelSettings",
    "NetworkSettings",
    "RegistrySettings",
    "RegistryStack",
    "SettingsError",
    "StackSettings",
    "SubnetSettings",
    "TrainingSettings",
    "load_settings",
    "read_pulumi_config",
    "registry_of",
]
