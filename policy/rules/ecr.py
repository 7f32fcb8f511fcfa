"""ECR: the repositories training and serving images live in."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from .._graph import attached, of_types, prop
from .._iam import allow_statements
from .._props import as_list, get, is_true
from .._rule import OFF_IN_DEV, resource_rule, stack_rule

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"


@resource_rule(
    name="ecr-immutable-tags",
    ids=("CKV_AWS_51", "ECR.2", "PCP:aws-ecr-repository-disallow-mutable-image"),
    summary="Image tags are immutable, so a tag always means the same image",
    fix="Set image_tag_mutability='IMMUTABLE' on aws.ecr.Repository",
    types=(REPOSITORY,),
)
def immutable_tags(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    mutability = get(args.props, "imageTagMutability", default="MUTABLE")
    if mutability != "IMMUTABLE":
        yield f"image tags are {mutability}"


@stack_rule(
    name="ecr-image-scanning",
    ids=("CKV_AWS_163", "ECR.1"),
    summary="Images are scanned for vulnerabilities: scan on push, or enhanced registry scanning",
    fix="Set image_scanning_configuration={'scan_on_push': True}, or declare aws.ecr.RegistryScanningConfiguration("
    "scan_type='ENHANCED', rules=[...])",
)
def image_scanning(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    enhanced = any(
        prop(c, "scanType") == "ENHANCED" and as_list(prop(c, "rules"))
        for c in of_types(args.resources, (REGISTRY_SCANNING,))
    )
    for repository in of_types(args.resources, (REPOSITORY,)):
        if not enhanced and not is_true(prop(repository, "imageScanningConfiguration", "scanOnPush")):
            yield repository, f"repository {repository.name} does not scan images"


@resource_rule(
    name="ecr-kms-encryption",
    ids=("CKV_AWS_136", "PCP:aws-ecr-repository-configure-customer-managed-key"),
    summary="Repositories encrypt images with KMS",
    fix="Set encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': key.arn}] (only at creation)",
    types=(REPOSITORY,),
    severity=Severity.MEDIUM,
)
def kms_encryption(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    configs = as_list(get(args.props, "encryptionConfigurations"))
    if not any(get(c, "encryptionType") == "KMS" for c in configs):
        yield "repository uses AES256, not KMS"


@stack_rule(
    name="ecr-lifecycle-policy",
    ids=("ECR.3",),
    summary="Every repository has a lifecycle policy (expire untagged images; never the deployed digests)",
    fix="Create aws.ecr.LifecyclePolicy(repository=repo.name, policy=<expire untagged after N days>)",
    severity=Severity.MEDIUM,
)
def lifecycle_policy(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    for repository in of_types(args.resources, (REPOSITORY,)):
        if not attached(args.resources, repository, (LIFECYCLE_POLICY,), "repository", ("name",)):
            yield repository, f"repository {repository.name} has no lifecycle policy"


@resource_rule(
    name="ecr-repository-policy-not-public",
    ids=("CKV_AWS_32",),
    summary="No repository policy lets anyone (Principal '*') pull or push without a condition",
    fix="Name the SageMaker/EKS roles or promotion accounts as principals",
    types=(REPOSITORY_POLICY,),
    severity=Severity.CRITICAL,
)
def repository_policy_not_public(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for st in allow_statements(get(args.props, "policy")):
        if st.public_principal and not st.conditions:
            yield f"{st.label} allows {', '.join(st.actions) or 'actions'} to Principal '*'"


@resource_rule(
    name="ecr-no-force-delete",
    ids=("REF-6",),
    summary="Repositories holding images cannot be deleted with their images by `pulumi destroy`",
    fix="Leave force_delete unset or False",
    types=(REPOSITORY,),
    levels=OFF_IN_DEV,
)
def no_force_delete(args: ResourceValidationArgs, env: str) -> Iterator[str]:
    if is_true(get(args.props, "forceDelete")):
        yield f"force_delete is on in {env}: a destroy deletes every image, including the deployed ones"
