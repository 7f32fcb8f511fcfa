"""SageMaker jobs: training and processing steps inside pipeline definitions, training jobs, and data-quality
monitoring job definitions. Each must isolate its containers, encrypt traffic between them, encrypt its
volumes and outputs with KMS, and run in the VPC.

Pipeline definitions are JSON in the SageMaker API's own PascalCase; resources use the engine's camelCase. Both
are read into one `Job` view so each rule is written once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .._props import as_list, get, is_true, json_value
from .._rule import ADVISORY_EVERYWHERE, ADVISORY_IN_DEV, resource_rule
from ._sagemaker import has_instance_storage

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
TRAINING_JOB = "aws:sagemaker/trainingJob:TrainingJob"
DATA_QUALITY_JOB = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
JOB_TYPES = (PIPELINE, TRAINING_JOB, DATA_QUALITY_JOB)


@dataclass(frozen=True)
class Job:
    """The security-relevant settings of one job, whatever declared it."""

    where: str
    isolation: Any
    inter_container: Any
    volume_kms: Any
    instance_types: tuple[Any, ...]
    output_kms: Any
    has_output: bool
    vpc: Any
    """The VpcConfig mapping (keys `subnets`/`Subnets`, `securityGroupIds`/`SecurityGroupIds`)."""


def _training_step(where: str, a: Any) -> Job:
    return Job(
        where=where,
        isolation=get(a, "EnableNetworkIsolation"),
        inter_container=get(a, "EnableInterContainerTrafficEncryption"),
        volume_kms=get(a, "ResourceConfig", "VolumeKmsKeyId"),
        instance_types=(get(a, "ResourceConfig", "InstanceType"),),
        output_kms=get(a, "OutputDataConfig", "KmsKeyId"),
        has_output=True,
        vpc=get(a, "VpcConfig"),
    )


def _processing_step(where: str, a: Any) -> Job:
    network = get(a, "NetworkConfig")
    return Job(
        where=where,
        isolation=get(network, "EnableNetworkIsolation"),
        inter_container=get(network, "EnableInterContainerTrafficEncryption"),
        volume_kms=get(a, "ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"),
        instance_types=(get(a, "ProcessingResources", "ClusterConfig", "InstanceType"),),
        output_kms=get(a, "ProcessingOutputConfig", "KmsKeyId"),
        has_output=get(a, "ProcessingOutputConfig") is not None,
        vpc=get(network, "VpcConfig"),
    )


def _pipeline_steps(steps: Any, prefix: str = "") -> Iterator[Job]:
    for step in as_list(steps):
        name = f"{prefix}step {get(step, 'Name', default='?')}"
        kind, arguments = get(step, "Type"), get(step, "Arguments")
        if kind == "Training":
            yield _training_step(name, arguments)
        elif kind == "Processing":
            yield _processing_step(name, arguments)
        elif kind == "Tuning":
            yield _training_step(name, get(arguments, "TrainingJobDefinition"))
        elif kind == "Condition":
            yield from _pipeline_steps(get(arguments, "IfSteps"), f"{name} > ")
            yield from _pipeline_steps(get(arguments, "ElseSteps"), f"{name} > ")


def _training_job(props: Mapping[str, Any]) -> Job:
    return Job(
        where="training job",
        isolation=get(props, "enableNetworkIsolation"),
        inter_container=get(props, "enableInterContainerTrafficEncryption"),
        volume_kms=get(props, "resourceConfig", "volumeKmsKeyId"),
        instance_types=(
            get(props, "resourceConfig", "instanceType"),
            *(get(g, "instanceType") for g in as_list(get(props, "resourceConfig", "instanceGroups"))),
        ),
        output_kms=get(props, "outputDataConfig", "kmsKeyId"),
        has_output=True,
        vpc=get(props, "vpcConfig"),
    )


def _data_quality_job(props: Mapping[str, Any]) -> Job:
    network = get(props, "networkConfig")
    return Job(
        where="data quality job",
        isolation=get(network, "enableNetworkIsolation"),
        inter_container=get(network, "enableInterContainerTrafficEncryption"),
        volume_kms=get(props, "jobResources", "clusterConfig", "volumeKmsKeyId"),
        instance_types=(get(props, "jobResources", "clusterConfig", "instanceType"),),
        output_kms=get(props, "dataQualityJobOutputConfig", "kmsKeyId"),
        has_output=True,
        vpc=get(network, "vpcConfig"),
    )


def jobs(args: ResourceValidationArgs) -> list[Job]:
    """Every job the resource declares; a pipeline stored in S3 (not inline) declares none we can read."""
    if args.resource_type == TRAINING_JOB:
        return [_training_job(args.props)]
    if args.resource_type == DATA_QUALITY_JOB:
        return [_data_quality_job(args.props)]
    definition = json_value(get(args.props, "pipelineDefinition"))
    return list(_pipeline_steps(get(definition, "Steps")))


def _is_set(value: Any) -> bool:
    # A pipeline parameter or expression ({"Get": "Parameters.KmsKey"}) supplies the key at run time.
    return bool(value) and isinstance(value, str | Mapping)


def _literal_true(value: Any) -> str | None:
    """None when the flag is literally true; otherwise why not."""
    if is_true(value):
        return None
    if isinstance(value, Mapping):
        return "is a pipeline expression, so a run can turn it off"
    return "is not set" if value is None else f"is {value!r}"


@resource_rule(
    name="sagemaker-job-network-isolation",
    ids=(
        "prowler:sagemaker_training_jobs_network_isolation_enabled",
        "SageMaker.11",
        "REF-25",
    ),
    summary="Training, processing and monitoring jobs isolate their containers from the network",
    fix="Set EnableNetworkIsolation=true on training steps (enable_network_isolation=True on the estimator) and "
    "NetworkConfig.EnableNetworkIsolation on processing steps",
    types=JOB_TYPES,
)
def job_network_isolation(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for job in jobs(args):
        why = _literal_true(job.isolation)
        if why:
            yield f"{job.where}: network isolation {why}"


@resource_rule(
    name="sagemaker-job-inter-container-encryption",
    ids=(
        "prowler:sagemaker_training_jobs_intercontainer_encryption_enabled",
        "CKV_AWS_369",
        "SageMaker.9",
        "REF-25",
    ),
    summary="Training, processing and monitoring jobs encrypt traffic between their instances",
    fix="Set EnableInterContainerTrafficEncryption=true (encrypt_inter_container_traffic=True on the estimator / "
    "NetworkConfig of the processor)",
    types=JOB_TYPES,
)
def job_inter_container_encryption(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for job in jobs(args):
        why = _literal_true(job.inter_container)
        if why:
            yield f"{job.where}: inter-container traffic encryption {why}"


@resource_rule(
    name="sagemaker-job-kms-encryption",
    ids=(
        "prowler:sagemaker_training_jobs_volume_and_output_encryption_enabled",
        "CKV_AWS_367",
        "CKV_AWS_368",
        "REF-25",
    ),
    summary="Jobs encrypt their storage volumes and outputs with a KMS key (volumes of instance types with local "
    "NVMe storage are exempt: SageMaker refuses a key for them)",
    fix="Set ResourceConfig.VolumeKmsKeyId and OutputDataConfig.KmsKeyId (volume_kms_key / output_kms_key on the "
    "estimator; ClusterConfig.VolumeKmsKeyId and ProcessingOutputConfig.KmsKeyId on processing steps)",
    types=JOB_TYPES,
)
def job_kms_encryption(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for job in jobs(args):
        local_storage = any(has_instance_storage(t) for t in job.instance_types)
        if not _is_set(job.volume_kms) and not local_storage:
            yield f"{job.where}: storage volume not encrypted with a KMS key"
        if job.has_output and not _is_set(job.output_kms):
            yield f"{job.where}: output not encrypted with a KMS key"


@resource_rule(
    name="sagemaker-job-vpc",
    ids=("prowler:sagemaker_training_jobs_vpc_settings_configured", "REF-25"),
    summary="Jobs run in the stack's VPC (subnets and security groups)",
    fix="Set VpcConfig={'Subnets': [...], 'SecurityGroupIds': [...]} (subnets= / security_group_ids= on the "
    "estimator; NetworkConfig.VpcConfig on processing steps)",
    types=JOB_TYPES,
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def job_vpc(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for job in jobs(args):
        subnets = get(job.vpc, "Subnets") or get(job.vpc, "subnets")
        groups = get(job.vpc, "SecurityGroupIds") or get(job.vpc, "securityGroupIds")
        if not subnets or not groups:
            yield f"{job.where}: no VPC config with subnets and security groups"


@resource_rule(
    name="sagemaker-pipeline-definition-inline",
    ids=("REF-25",),
    summary="Pipeline definitions are inline so the job rules can read them. Advisory everywhere: a definition "
    "over SageMaker's inline size limit has to live in S3",
    fix="Pass pipeline_definition=<JSON> instead of pipeline_definition_s3_location",
    types=(PIPELINE,),
    levels=ADVISORY_EVERYWHERE,
    severity=Severity.LOW,
)
def pipeline_definition_inline(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    definition = json_value(get(args.props, "pipelineDefinition"))
    if get(args.props, "pipelineDefinitionS3Location") is not None or not isinstance(definition, Mapping):
        yield "the pipeline definition is not inline JSON, so its steps were not checked"
