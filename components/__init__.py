"""Reusable Pulumi components of the MLOps toolkit. Each module holds one component; this only re-exports."""

from .data_lake import DATA_BUCKETS, RAW_DATA_PREFIX, DataLake, DataLakeArgs
from .secure_bucket import SecureBucket, SecureBucketArgs, StorageTransition

__all__ = [
    "DATA_BUCKETS",
    "RAW_DATA_PREFIX",
    "DataLake",
    "DataLakeArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "StorageTransition",
]
