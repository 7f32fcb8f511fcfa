"""S3: buckets and the side resources pulumi-aws v7 keeps their settings in.

A v7 `aws.s3.Bucket` no longer carries encryption, versioning, logging, lifecycle, ACLs or its policy; each is a
separate resource pointing at the bucket through its `bucket` input. A rule on the bucket alone cannot see them,
so the bucket-level rules are stack rules that join each bucket to its side resources (the deprecated inline
inputs, still accepted by v7, count too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from .._graph import attached, names_of, of_types, prop, refers_to
from .._iam import allow_statements, statements
from .._props import as_list, get, is_set, is_true, number
from .._rule import (
    ADVISORY,
    ADVISORY_EVERYWHERE,
    ADVISORY_IN_DEV,
    OFF,
    OFF_IN_DEV,
    Levels,
    resource_rule,
    stack_rule,
)

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
ACCOUNT_PUBLIC_ACCESS_BLOCK = ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",)
OWNERSHIP_CONTROLS = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
POLICIES = ("aws:s3/bucketPolicy:BucketPolicy",)
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
NOTIFICATIONS = ("aws:s3/bucketNotification:BucketNotification",)
REPLICATION = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",)
OBJECT_LOCK = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PROD_ONLY_ADVISORY = Levels(dev=OFF, staging=OFF, prod=ADVISORY)


def _side(args: StackValidationArgs, bucket: PolicyResource, types: tuple[str, ...]) -> list[PolicyResource]:
    return attached(args.resources, bucket, types, "bucket", ("bucket",))


def _buckets(args: StackValidationArgs) -> list[PolicyResource]:
    return of_types(args.resources, BUCKETS)


def _missing_flags(props: object) -> list[str]:
    return [flag for flag in PAB_FLAGS if not is_true(get(props, flag))]


@resource_rule(
    name="s3-account-public-access-block",
    ids=("S3.1",),
    summary="An account-level S3 Block Public Access declared by the stack turns on all four blocks",
    fix="Set block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to True "
    "on aws.s3.AccountPublicAccessBlock",
    types=ACCOUNT_PUBLIC_ACCESS_BLOCK,
)
def account_public_access_block(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    missing = _missing_flags(args.props)
    if missing:
        yield f"account public access block leaves {', '.join(missing)} off"


@resource_rule(
    name="s3-public-access-block-all-flags",
    ids=("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
    summary="A bucket's public access block turns on all four blocks",
    fix="Set block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to True "
    "on aws.s3.BucketPublicAccessBlock",
    types=PUBLIC_ACCESS_BLOCK,
)
def public_access_block_all_flags(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    missing = _missing_flags(args.props)
    if missing:
        yield f"public access block leaves {', '.join(missing)} off"


@stack_rule(
    name="s3-bucket-has-public-access-block",
    ids=("CKV2_AWS_6", "S3.8"),
    summary="Every bucket has a public access block connected to it",
    fix="Create aws.s3.BucketPublicAccessBlock(bucket=bucket.id, ...) with all four flags True",
)
def bucket_has_public_access_block(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        if not _side(args, bucket, PUBLIC_ACCESS_BLOCK):
            yield bucket, f"bucket {bucket.name} has no BucketPublicAccessBlock"


@stack_rule(
    name="s3-bucket-acls-disabled",
    ids=("CKV2_AWS_65", "S3.12"),
    summary="Every bucket disables ACLs (object ownership BucketOwnerEnforced)",
    fix="Create aws.s3.BucketOwnershipControls(bucket=bucket.id, rule={'object_ownership': 'BucketOwnerEnforced'})",
)
def bucket_acls_disabled(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        controls = _side(args, bucket, OWNERSHIP_CONTROLS)
        if not any(prop(c, "rule", "objectOwnership") == "BucketOwnerEnforced" for c in controls):
            yield bucket, f"bucket {bucket.name} does not enforce bucket-owner object ownership (ACLs stay enabled)"


@resource_rule(
    name="s3-no-public-acl",
    ids=("CKV_AWS_20", "CKV_AWS_57", "S3.2", "S3.3"),
    summary="No bucket ACL grants access to everyone or to any authenticated AWS user",
    fix="Drop the public canned ACL / AllUsers and AuthenticatedUsers grants; disable ACLs with "
    "BucketOwnershipControls and share through explicit bucket-policy principals",
    types=ACLS + BUCKETS,
)
def no_public_acl(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    acl = get(args.props, "acl")
    if acl in PUBLIC_CANNED_ACLS:
        yield f"canned ACL '{acl}' makes the bucket public"
    grants = as_list(get(args.props, "accessControlPolicy", "grants")) + as_list(get(args.props, "grants"))
    for grant in grants:
        uri = get(grant, "grantee", "uri") or get(grant, "uri")
        if uri in PUBLIC_GRANTEES:
            yield f"ACL grants {get(grant, 'permission') or as_list(get(grant, 'permissions'))} to {uri}"


def _sse_rules(args: StackValidationArgs, bucket: PolicyResource) -> list[object]:
    rules = [r for c in _side(args, bucket, ENCRYPTION) for r in as_list(prop(c, "rules"))]
    inline = prop(bucket, "serverSideEncryptionConfiguration", "rule")
    return rules + ([inline] if inline is not None else [])


@stack_rule(
    name="s3-bucket-encrypted-kms",
    ids=("CKV_AWS_145", "CKV_AWS_19", "S3.17", "PCP:aws-s3-bucket-configure-server-side-encryption-kms"),
    summary="Every bucket encrypts by default with SSE-KMS under a customer-managed key",
    fix="Create aws.s3.BucketServerSideEncryptionConfiguration(bucket=bucket.id, rules=[{"
    "'apply_server_side_encryption_by_default': {'sse_algorithm': 'aws:kms', 'kms_master_key_id': key.arn}, "
    "'bucket_key_enabled': True}])",
)
def bucket_encrypted_kms(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        rules = _sse_rules(args, bucket)
        if not rules:
            yield bucket, f"bucket {bucket.name} has no default encryption configuration"
            continue
        for rule in rules:
            by_default = get(rule, "applyServerSideEncryptionByDefault")
            algorithm = get(by_default, "sseAlgorithm")
            if algorithm not in KMS_ALGORITHMS:
                yield bucket, f"bucket {bucket.name} encrypts with {algorithm or 'nothing'}, not SSE-KMS"
            elif not is_set(by_default, "kmsMasterKeyId"):
                yield bucket, f"bucket {bucket.name} uses SSE-KMS with the AWS-managed key, not a customer-managed key"


@resource_rule(
    name="s3-bucket-key-enabled",
    ids=("PCP:aws-s3-bucket-enable-server-side-encryption-bucket-key",),
    summary="SSE-KMS bucket encryption uses S3 bucket keys (cuts KMS requests and cost)",
    fix="Set bucket_key_enabled=True on the SSE-KMS rule of aws.s3.BucketServerSideEncryptionConfiguration",
    types=ENCRYPTION,
    levels=ADVISORY_IN_DEV,
    severity=Severity.LOW,
)
def bucket_key_enabled(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for rule in as_list(get(args.props, "rules")):
        algorithm = get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if algorithm in KMS_ALGORITHMS and not is_true(get(rule, "bucketKeyEnabled")):
            yield "an SSE-KMS rule does not enable the S3 bucket key"


def _versioning_enabled(args: StackValidationArgs, bucket: PolicyResource) -> bool:
    side = _side(args, bucket, VERSIONING)
    return any(prop(v, "versioningConfiguration", "status") == "Enabled" for v in side) or is_true(
        prop(bucket, "versioning", "enabled")
    )


@stack_rule(
    name="s3-bucket-versioning",
    ids=("CKV_AWS_21", "S3.14"),
    summary="Every bucket has versioning enabled",
    fix="Create aws.s3.BucketVersioning(bucket=bucket.id, versioning_configuration={'status': 'Enabled'})",
)
def bucket_versioning(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        if not _versioning_enabled(args, bucket):
            yield bucket, f"bucket {bucket.name} has no BucketVersioning with status Enabled"


def _denies_insecure_transport(document: object) -> bool:
    for st in statements(document) or []:
        if st.effect != "Deny" or not st.public_principal or not st.grants("s3:getobject"):
            continue
        if any(v.lower() == "false" for v in st.condition_values("aws:SecureTransport")):
            return True
    return False


def _bucket_policies(args: StackValidationArgs, bucket: PolicyResource) -> list[object]:
    documents = [prop(p, "policy") for p in _side(args, bucket, POLICIES)]
    inline = prop(bucket, "policy")
    return documents + ([inline] if inline is not None else [])


@stack_rule(
    name="s3-bucket-tls-only",
    ids=("S3.5",),
    summary="Every bucket's policy denies requests that do not use TLS",
    fix="Add to the bucket's aws.s3.BucketPolicy a statement Deny, Principal '*', Action 's3:*', Resource "
    "[arn, arn/*], Condition {'Bool': {'aws:SecureTransport': 'false'}}",
)
def bucket_tls_only(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        if not any(_denies_insecure_transport(doc) for doc in _bucket_policies(args, bucket)):
            yield bucket, f"bucket {bucket.name} has no policy statement denying aws:SecureTransport=false"


@resource_rule(
    name="s3-bucket-policy-not-public",
    ids=("CKV_AWS_70", "S3.2", "S3.3"),
    summary="No bucket policy allows anyone (Principal '*') without a condition",
    fix="Name the principals (roles, services with aws:SourceAccount) instead of '*', or add a restricting Condition",
    types=POLICIES + BUCKETS,
)
def bucket_policy_not_public(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for st in allow_statements(get(args.props, "policy")):
        if st.public_principal and not st.conditions:
            yield f"{st.label} allows {', '.join(st.actions) or 'actions'} to Principal '*' without a condition"


@stack_rule(
    name="s3-bucket-access-logging",
    ids=("CKV_AWS_18", "S3.9", "AG:s3-bucket-logging-enabled"),
    summary="Every bucket sends server access logs to another bucket",
    fix="Create aws.s3.BucketLogging(bucket=bucket.id, target_bucket=log_bucket.id, target_prefix=f'{name}/')",
)
def bucket_access_logging(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        loggings = _side(args, bucket, LOGGING)
        targets_self = [g for g in loggings if refers_to(g, "targetBucket", bucket, names_of(bucket, ("bucket",)))]
        if not loggings and not is_set(bucket.props, "logging", "targetBucket"):
            yield bucket, f"bucket {bucket.name} has no BucketLogging"
        elif loggings and len(targets_self) == len(loggings):
            yield bucket, f"bucket {bucket.name} logs into itself"


def _lifecycle_rules(args: StackValidationArgs, bucket: PolicyResource) -> list[object]:
    return [r for c in _side(args, bucket, LIFECYCLE) for r in as_list(prop(c, "rules"))]


def _enabled(rules: list[object]) -> list[object]:
    return [r for r in rules if get(r, "status") == "Enabled" or is_true(get(r, "enabled"))]


@stack_rule(
    name="s3-bucket-has-lifecycle",
    ids=("CKV2_AWS_61", "S3.13"),
    summary="Every bucket has a lifecycle configuration with an enabled rule",
    fix="Create aws.s3.BucketLifecycleConfiguration(bucket=bucket.id, rules=[{'id': ..., 'status': 'Enabled', ...}])",
    severity=Severity.MEDIUM,
)
def bucket_has_lifecycle(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        rules = _lifecycle_rules(args, bucket) + as_list(prop(bucket, "lifecycleRules"))
        if not _enabled(rules):
            yield bucket, f"bucket {bucket.name} has no enabled lifecycle rule"


@stack_rule(
    name="s3-versioned-bucket-expires-noncurrent",
    ids=("S3.10",),
    summary="Every versioned bucket expires noncurrent object versions (versioning without it grows cost forever)",
    fix="Add noncurrent_version_expiration={'noncurrent_days': N} to an enabled, unfiltered lifecycle rule",
    severity=Severity.MEDIUM,
)
def versioned_bucket_expires_noncurrent(
    args: StackValidationArgs, _env: str
) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        if not _versioning_enabled(args, bucket):
            continue
        rules = _enabled(_lifecycle_rules(args, bucket))
        if not any((number(get(r, "noncurrentVersionExpiration", "noncurrentDays")) or 0) > 0 for r in rules):
            yield bucket, f"versioned bucket {bucket.name} never expires noncurrent versions"


def _covers_whole_bucket(rule: object) -> bool:
    filt = get(rule, "filter")
    if not isinstance(filt, Mapping):
        return get(rule, "prefix") in (None, "")
    # {"prefix": ""} or {} filters nothing; any other non-empty condition narrows the rule.
    return all(get(filt, key) in (None, "", [], {}) for key in filt)


@resource_rule(
    name="s3-lifecycle-aborts-incomplete-uploads",
    ids=("CKV_AWS_300",),
    summary="A bucket lifecycle aborts incomplete multipart uploads with an enabled rule covering the whole bucket",
    fix="Add abort_incomplete_multipart_upload={'days_after_initiation': 7} to an enabled rule with an empty filter",
    types=LIFECYCLE,
    levels=ADVISORY_IN_DEV,
    severity=Severity.LOW,
)
def lifecycle_aborts_incomplete_uploads(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    rules = _enabled(as_list(get(args.props, "rules")))
    if not any(
        get(r, "abortIncompleteMultipartUpload", "daysAfterInitiation") is not None and _covers_whole_bucket(r)
        for r in rules
    ):
        yield "no enabled, unfiltered rule aborts incomplete multipart uploads"


@resource_rule(
    name="s3-bucket-no-force-destroy",
    ids=("REF-13",),
    summary="Buckets cannot be emptied and deleted by `pulumi destroy` (force_destroy stays off)",
    fix="Leave force_destroy unset or False (dataLake.forceDestroy is for throwaway dev stacks)",
    types=BUCKETS,
    levels=OFF_IN_DEV,
)
def bucket_no_force_destroy(args: ResourceValidationArgs, env: str) -> Iterator[str]:
    if is_true(get(args.props, "forceDestroy")):
        yield f"force_destroy is on in {env}: a destroy or replacement deletes every object"


@stack_rule(
    name="s3-bucket-event-notifications",
    ids=("CKV2_AWS_62", "S3.11"),
    summary="Buckets publish event notifications (EventBridge, SNS, SQS or Lambda). Advisory everywhere: only "
    "buckets whose events something consumes need them",
    fix="Create aws.s3.BucketNotification(bucket=bucket.id, eventbridge=True) where events drive work",
    levels=ADVISORY_EVERYWHERE,
    severity=Severity.LOW,
)
def bucket_event_notifications(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        if not _side(args, bucket, NOTIFICATIONS):
            yield bucket, f"bucket {bucket.name} has no BucketNotification"


@stack_rule(
    name="s3-prod-bucket-replication",
    ids=("CKV_AWS_144", "S3.7"),
    summary="Prod buckets replicate to another Region or account. Advisory, prod only: it needs a DR "
    "destination the stack does not have yet",
    fix="Create aws.s3.BucketReplicationConfig(bucket=bucket.id, role=..., rules=[{'status': 'Enabled', ...}]) "
    "depending on both buckets' versioning",
    levels=PROD_ONLY_ADVISORY,
    severity=Severity.MEDIUM,
)
def prod_bucket_replication(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        rules = [r for c in _side(args, bucket, REPLICATION) for r in as_list(prop(c, "rules"))]
        if not any(get(r, "status") == "Enabled" for r in rules):
            yield bucket, f"bucket {bucket.name} has no enabled replication rule"


@stack_rule(
    name="s3-prod-bucket-object-lock",
    ids=("CKV_AWS_143", "S3.15"),
    summary="Prod buckets have Object Lock (WORM) with a default retention. Advisory, prod only: it can never "
    "be turned off once on, so it is a deliberate choice per bucket",
    fix="Create the bucket with object_lock_enabled=True and add aws.s3.BucketObjectLockConfiguration("
    "bucket=bucket.id, rule={'default_retention': {'mode': 'GOVERNANCE', 'days': N}})",
    levels=PROD_ONLY_ADVISORY,
    severity=Severity.MEDIUM,
)
def prod_bucket_object_lock(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for bucket in _buckets(args):
        locks = _side(args, bucket, OBJECT_LOCK)
        if not is_true(prop(bucket, "objectLockEnabled")) or not locks:
            yield bucket, f"bucket {bucket.name} has no Object Lock with a default retention"
