"""SecureBucket: one S3 bucket with every protection pulumi-aws v7 keeps in side resources."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ._policy_documents import (
    allow_access_log_delivery,
    allow_cross_account_object_reads,
    deny_insecure_transport,
    policy,
)
from ._waivers import WAIVER_TAG_PREFIX, waiver_tags
from ._waivers import waiver_problems as _waiver_problems

__all__ = ["WAIVER_TAG_PREFIX", "SecureBucket", "SecureBucketArgs", "StorageTransition"]


@dataclass
class StorageTransition:
    """Move current objects to another storage class after some days."""

    days: int
    """Days after creation."""
    storage_class: str
    """Target S3 storage class, e.g. INTELLIGENT_TIERING or GLACIER_IR."""


@dataclass
class SecureBucketArgs:
    """Inputs of a SecureBucket. Every omitted field takes the secure default it documents."""

    purpose: str
    """What the bucket holds, in a word or two; tagged as `purpose`."""
    kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for SSE-KMS with S3 bucket keys. None means SSE-S3 (AES256), which only the access-log
    bucket uses, because S3 server access logging cannot deliver into an SSE-KMS bucket."""
    access_log_bucket: pulumi.Input[str] | None = None
    """Bucket (name) that receives this bucket's server access logs. None only for the log bucket itself."""
    force_destroy: bool = False
    """Allow `pulumi destroy` to delete a non-empty bucket. Off by default: deleting data needs intent."""
    noncurrent_version_days: int = 90
    """Days an overwritten or deleted object version is kept before it expires."""
    abort_incomplete_multipart_days: int = 7
    """Days after which unfinished multipart uploads are aborted (their parts cost money, unseen)."""
    transitions: list[StorageTransition] = field(default_factory=list)
    """Storage-class transitions of current objects (e.g. raw data to Intelligent-Tiering)."""
    expiration_days: int | None = None
    """Expire current objects after this many days (logs); None keeps them."""
    log_delivery_account_id: pulumi.Input[str] | None = None
    """Make this an access-log bucket: let S3 log delivery write here for buckets of this account.
    None (the default) grants nobody anything; the bucket policy is then only the TLS-only deny."""
    reader_account_ids: list[str] = field(default_factory=list)
    """Other accounts allowed to read (s3:GetObject) every object, e.g. staging and prod reading the model
    artifacts dev registered. Empty (the default): no cross-account access."""
    log_delivery_source_arns: list[str] = field(default_factory=list)
    """ARN patterns of the buckets whose logs may be delivered here (with log_delivery_account_id)."""
    eventbridge_notifications: bool = False
    """Send object events to EventBridge (the raw bucket does, to trigger retraining)."""
    waivers: dict[str, str] = field(default_factory=dict)
    """Guardrail rules this bucket waives, by rule name, with the reason (docs/policy.md, "Waivers"). Each becomes
    a tag `waiver:<rule>` = reason that the policy pack reads, so waivers show up in review and in the console.
    Empty (the default) waives nothing."""


class SecureBucket(pulumi.ComponentResource):
    """An S3 bucket that is private, encrypted, versioned, TLS-only, logged and tidied by lifecycle rules."""

    bucket: aws.s3.Bucket
    """The bucket."""
    name: pulumi.Output[str]
    """Bucket name."""
    arn: pulumi.Output[str]
    """Bucket ARN."""

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Validated before anything is created: AWS refuses tag keys/values outside its character set.
        problems = _waiver_problems(args.waivers)
        if problems:
            raise pulumi.InputPropertyError("waivers", f"SecureBucket {name}: " + "; ".join(problems))
        super().__init__("mlops:data:SecureBucket", name, None, opts)
        # The SDK passes protect down to children but not retain_on_delete, so carry the caller's choice.
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=opts.retain_on_delete if opts else None)
        self.bucket = aws.s3.Bucket(
            name,
            force_destroy=args.force_destroy,
            tags={"purpose": args.purpose, **waiver_tags(args.waivers)},
            opts=child,
        )
        self._lock_down(name, child)
        self._encrypt(name, args, child)
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        self._lifecycle(name, args, child, versioning)
        self._policy(name, args, child)
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=self.bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{name}/",
                opts=child,
            )
        if args.eventbridge_notifications:
            aws.s3.BucketNotification(f"{name}-events", bucket=self.bucket.id, eventbridge=True, opts=child)
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})

    def _lock_down(self, name: str, child: pulumi.ResourceOptions) -> None:
        # ACLs off (BucketOwnerEnforced) and all four public-access blocks: S3.8, S3.12, CKV_AWS_53-56.
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )

    def _encrypt(self, name: str, args: SecureBucketArgs, child: pulumi.ResourceOptions) -> None:
        by_default = (
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
            )
            if args.kms_key_arn is not None
            else aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            )
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=by_default,
                    # Bucket keys cut KMS request costs by ~99% for busy buckets.
                    bucket_key_enabled=args.kms_key_arn is not None,
                )
            ],
            opts=child,
        )

    def _lifecycle(
        self, name: str, args: SecureBucketArgs, child: pulumi.ResourceOptions, versioning: aws.s3.BucketVersioning
    ) -> None:
        rules = [
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="hygiene",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=args.abort_incomplete_multipart_days
                ),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_version_days
                ),
                expiration=(
                    aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expiration_days)
                    if args.expiration_days is not None
                    else None
                ),
                transitions=[
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=t.days, storage_class=t.storage_class)
                    for t in args.transitions
                ]
                or None,
            )
        ]
        # A lifecycle configuration on a bucket whose versioning is still being enabled is rejected by S3.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=rules,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[versioning])),
        )

    def _policy(self, name: str, args: SecureBucketArgs, child: pulumi.ResourceOptions) -> None:
        def render(arn: str, account_id: str | None) -> str:
            statements = [deny_insecure_transport(arn)]
            if account_id is not None:
                statements.append(allow_access_log_delivery(arn, account_id, args.log_delivery_source_arns))
            if args.reader_account_ids:
                statements.append(allow_cross_account_object_reads(arn, args.reader_account_ids))
            return json.dumps(policy(*statements))

        document = pulumi.Output.all(self.bucket.arn, args.log_delivery_account_id).apply(lambda v: render(*v))
        # The public access block must exist first so the policy can never be briefly evaluated as public.
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=document,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.public_access_block])),
        )
