"""Data protection: what a stray `pulumi destroy` or a replacing change must not be able to delete.

`protect` is a Pulumi resource option the analyzer passes to policies (`args.opts.protect`); the engine refuses
any deployment that would delete a protected resource, including a replacement. `retain_on_delete` is not
visible to policies, so it is the component's job (the data lake sets both from `mlops:protectData`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from .._rule import OFF_IN_DEV, resource_rule

STATEFUL_TYPES = (
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:kms/key:Key",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
    "aws:sagemaker/featureGroup:FeatureGroup",
    "aws:sagemaker/domain:Domain",
    "aws:ecr/repository:Repository",
    "aws:eks/cluster:Cluster",
)


@resource_rule(
    name="stateful-resources-protected",
    ids=("REF-6", "REF-13", "REF-38"),
    summary="Stateful resources (buckets, KMS keys, model registries, feature groups, ECR repositories, EKS "
    "clusters) are protected from deletion in staging and prod",
    fix="Set mlops:protectData: true in the stack file (components pass it as protect=True, retain_on_delete=True)",
    types=STATEFUL_TYPES,
    levels=OFF_IN_DEV,
)
def stateful_resources_protected(args: ResourceValidationArgs, env: str) -> Iterator[str]:
    if not args.opts.protect:
        yield f"{args.resource_type.rsplit(':', 1)[-1]} {args.name} is not protected in {env}"
