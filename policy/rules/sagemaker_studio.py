"""SageMaker notebooks and Studio domains: the interactive side of the platform."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from .._props import get, is_set
from .._rule import resource_rule

NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
DOMAIN = "aws:sagemaker/domain:Domain"


@resource_rule(
    name="sagemaker-notebook-no-direct-internet",
    ids=("CKV_AWS_122", "SageMaker.1", "SageMaker.2"),
    summary="Notebook instances have no direct internet access and sit in a VPC subnet",
    fix="Set direct_internet_access='Disabled', subnet_id=<private subnet> and security_groups=[...]",
    types=(NOTEBOOK,),
)
def notebook_no_direct_internet(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    # SageMaker's default is "Enabled", so an unset value is a violation.
    if get(args.props, "directInternetAccess") != "Disabled":
        yield "notebook has direct internet access"
    if not is_set(args.props, "subnetId"):
        yield "notebook is not in a VPC subnet"


@resource_rule(
    name="sagemaker-notebook-root-disabled",
    ids=("CKV_AWS_307", "SageMaker.3"),
    summary="Notebook users do not get root on the instance",
    fix="Set root_access='Disabled'",
    types=(NOTEBOOK,),
)
def notebook_root_disabled(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if get(args.props, "rootAccess") != "Disabled":
        yield "notebook users have root access"


@resource_rule(
    name="sagemaker-notebook-kms",
    ids=("CKV_AWS_22", "CKV_AWS_187"),
    summary="Notebook storage volumes are encrypted with a customer-managed KMS key",
    fix="Set kms_key_id=key.arn",
    types=(NOTEBOOK,),
    severity=Severity.MEDIUM,
)
def notebook_kms(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if not is_set(args.props, "kmsKeyId"):
        yield "notebook volume without a KMS key"


@resource_rule(
    name="sagemaker-domain-vpc-only",
    ids=("REF-31",),
    summary="Studio domains send traffic only through the VPC",
    fix="Set app_network_access_type='VpcOnly' on aws.sagemaker.Domain",
    types=(DOMAIN,),
)
def domain_vpc_only(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if get(args.props, "appNetworkAccessType") != "VpcOnly":
        yield "domain traffic may go to the internet directly (app_network_access_type is not VpcOnly)"


@resource_rule(
    name="sagemaker-domain-kms",
    ids=("CKV_AWS_187",),
    summary="Studio domains encrypt their EFS volume with a customer-managed KMS key",
    fix="Set kms_key_id=key.arn on aws.sagemaker.Domain",
    types=(DOMAIN,),
    severity=Severity.MEDIUM,
)
def domain_kms(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if not is_set(args.props, "kmsKeyId"):
        yield "domain EFS volume without a KMS key"
