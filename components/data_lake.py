"""DataLake: the KMS key and the buckets an ML system keeps its data, models, captures and logs in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ._policy_documents import kms_key_policy
from .secure_bucket import SecureBucket, SecureBucketArgs, StorageTransition

# Stable keys of the data buckets; they are part of resource names, so renaming one replaces the bucket.
DATA_BUCKETS: dict[str, str] = {
    "raw": "raw data as it lands",
    "curated": "curated features and splits",
    "artifacts": "model artifacts and code",
    "capture": "endpoint data capture",
}
RAW_DATA_PREFIX = "incoming/"
# Tag values allow letters, digits, spaces and _ . : / = + - @ only, hence the wording.
ACCESS_LOG_WAIVERS: dict[str, str] = {
    "s3-bucket-encrypted-kms": "S3 server access logging delivers only to SSE-S3 buckets - AES256 not KMS",
    "s3-bucket-access-logging": "This is the access log bucket - logging it into itself would loop",
}


@dataclass
class DataLakeArgs:
    """Inputs of a DataLake. Omitted fields take the defaults documented here."""

    account_id: pulumi.Input[str]
    """Account the lake lives in; scopes the key policy and log delivery."""
    region: pulumi.Input[str]
    """Region of the lake; scopes the key policy for CloudWatch Logs."""
    protect: bool = False
    """Protect the key and buckets from deletion and retain them if removed from the program (prod)."""
    force_destroy: bool = False
    """Let `pulumi destroy` delete non-empty buckets (throwaway dev stacks only)."""
    noncurrent_version_days: int = 90
    """Days replaced object versions are kept."""
    abort_incomplete_multipart_days: int = 7
    """Days after which unfinished multipart uploads are aborted."""
    raw_intelligent_tiering_days: int = 30
    """Days before raw data moves to Intelligent-Tiering."""
    raw_glacier_days: int | None = None
    """Days before raw data moves to Glacier Instant Retrieval; None keeps it in Intelligent-Tiering."""
    access_log_retention_days: int = 365
    """Days server access logs are kept."""
    artifact_reader_account_ids: list[str] = field(default_factory=list)
    """Accounts (staging, prod) that serve model versions registered here: they may read the artifacts
    bucket and decrypt its objects through S3. Empty (the default): no cross-account access."""


class DataLake(pulumi.ComponentResource):
    """A customer-managed KMS key and five secure buckets: raw, curated, artifacts, capture, access logs."""

    key: aws.kms.Key
    """The customer-managed key every data bucket is encrypted with."""
    key_arn: pulumi.Output[str]
    """ARN of that key."""
    buckets: dict[str, SecureBucket]
    """Data buckets by key: raw, curated, artifacts, capture."""
    access_logs: SecureBucket
    """Bucket receiving the data buckets' server access logs."""
    bucket_names: pulumi.Output[dict[str, str]]
    """Bucket names by key, including `access-logs`."""

    def __init__(self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:data:DataLake", name, None, opts)
        # Children inherit protect from their parent; retain_on_delete is set on each stateful child.
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self.key = self._key(name, args, stateful)
        self.key_arn = self.key.arn
        self.access_logs = self._access_log_bucket(name, args, stateful)
        # Logging is switched on only once the log bucket's policy lets delivery in.
        after_logs = pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(depends_on=[self.access_logs]))
        self.buckets = {
            role: SecureBucket(f"{name}-{role}", self._bucket_args(role, purpose, args), opts=after_logs)
            for role, purpose in DATA_BUCKETS.items()
        }
        self.bucket_names = pulumi.Output.all(
            **{role: b.name for role, b in self.buckets.items()}, **{"access-logs": self.access_logs.name}
        )
        self.register_outputs({"key_arn": self.key_arn, "bucket_names": self.bucket_names})

    def _key(self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions) -> aws.kms.Key:
        key = aws.kms.Key(
            f"{name}-key",
            description=f"{name}: data lake, training, endpoint and log encryption",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            is_enabled=True,
            policy=pulumi.Output.all(args.account_id, args.region).apply(
                lambda v: json.dumps(kms_key_policy(v[0], v[1], args.artifact_reader_account_ids))
            ),
            opts=opts,
        )
        aws.kms.Alias(f"{name}-key-alias", name=f"alias/{name}-data", target_key_id=key.key_id,
                      opts=pulumi.ResourceOptions(parent=self))
        return key

    def _access_log_bucket(self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions) -> SecureBucket:
        log_bucket_name = f"{name}-access-logs"
        return SecureBucket(
            log_bucket_name,
            SecureBucketArgs(
                purpose="s3 server access logs",
                # S3 server access logging delivers only into SSE-S3 buckets, so this one bucket cannot use KMS.
                kms_key_arn=None,
                access_log_bucket=None,
                force_destroy=args.force_destroy,
                noncurrent_version_days=args.noncurrent_version_days,
                abort_incomplete_multipart_days=args.abort_incomplete_multipart_days,
                expiration_days=args.access_log_retention_days,
                # Only this account's data buckets may deliver (by name prefix: they are auto-named).
                log_delivery_account_id=args.account_id,
                log_delivery_source_arns=[f"arn:aws:s3:::{name}-{role}-*" for role in DATA_BUCKETS],
                # Guardrails this bucket cannot meet by design, waived with the reason (docs/policy.md).
                waivers=ACCESS_LOG_WAIVERS,
            ),
            opts=opts,
        )

    def _bucket_args(self, role: str, purpose: str, args: DataLakeArgs) -> SecureBucketArgs:
        transitions: list[StorageTransition] = []
        if role == "raw":
            transitions.append(StorageTransition(args.raw_intelligent_tiering_days, "INTELLIGENT_TIERING"))
            if args.raw_glacier_days is not None:
                transitions.append(StorageTransition(args.raw_glacier_days, "GLACIER_IR"))
        return SecureBucketArgs(
            purpose=purpose,
            kms_key_arn=self.key.arn,
            access_log_bucket=self.access_logs.name,
            force_destroy=args.force_destroy,
            noncurrent_version_days=args.noncurrent_version_days,
            abort_incomplete_multipart_days=args.abort_incomplete_multipart_days,
            transitions=transitions,
            # Raw-data arrivals drive automatic retraining through EventBridge.
            eventbridge_notifications=role == "raw",
            reader_account_ids=args.artifact_reader_account_ids if role == "artifacts" else [],
        )
