"""Reusable Pulumi components of the MLOps toolkit. Each module holds one component; this only re-exports."""

from ._retrain_trigger import RetrainTrigger, RetrainTriggerArgs
from .alerts import Alerts, AlertsArgs
from .data_lake import DATA_BUCKETS, RAW_DATA_PREFIX, DataLake, DataLakeArgs
from .endpoint_alarms import EndpointAlarms, EndpointAlarmsArgs
from .image_repository import ImageRepository, ImageRepositoryArgs, image_uri
from .model_endpoint import ModelEndpoint, ModelEndpointArgs, ServingMode, TrafficShifting
from .secure_bucket import SecureBucket, SecureBucketArgs, StorageTransition
from .training_pipeline import ApprovalStatus, TrainingPipeline, TrainingPipelineArgs

__all__ = [
    "DATA_BUCKETS",
    "RAW_DATA_PREFIX",
    "Alerts",
    "AlertsArgs",
    "ApprovalStatus",
    "DataLake",
    "DataLakeArgs",
    "EndpointAlarms",
    "EndpointAlarmsArgs",
    "ImageRepository",
    "ImageRepositoryArgs",
    "ModelEndpoint",
    "ModelEndpointArgs",
    "RetrainTrigger",
    "RetrainTriggerArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "ServingMode",
    "StorageTransition",
    "TrafficShifting",
    "TrainingPipeline",
    "TrainingPipelineArgs",
    "image_uri",
]
