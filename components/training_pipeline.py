"""TrainingPipeline: a model's SageMaker pipeline, its registry, its code upload and automatic retraining."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from ._code_asset import CodeDirectoryError, code_files, code_sha256
from ._pipeline_definition import PipelineSpec, pipeline_definition
from ._retrain_trigger import RetrainTrigger, RetrainTriggerArgs
from ._training_policies import TrainingScope, execution_role_policy, model_package_group_policy, service_trust_policy
from .data_lake import RAW_DATA_PREFIX
from .image_repository import repository_arn_of

sm = aws.sagemaker
WORK_PREFIX = "pipelines"
"""Splits, models, checkpoints and evaluations: `pipelines/<m>/...` of the curated and artifacts buckets."""
CODE_PREFIX = "code"
"""Model code: `code/<m>/<sha256>/model_code/...` of the artifacts bucket."""


def raw_prefix(model_name: str) -> str:
    """Where model <m>'s raw data lands in the raw bucket: `incoming/<m>/`; new objects there retrain it."""
    return f"{RAW_DATA_PREFIX}{model_name}/"


class ApprovalStatus(enum.StrEnum):
    """Registry status of the versions the pipeline registers."""

    APPROVED = "Approved"
    """Deployable at once (dev)."""
    PENDING_MANUAL_APPROVAL = "PendingManualApproval"
    """Waits for a person to approve it (staging, prod)."""


@dataclass
class TrainingPipelineArgs:
    """Inputs of a TrainingPipeline. Omitted fields take the defaults documented here."""

    pipeline_name: str
    """Name of the pipeline and of the model package group (fixed: the CLI and other accounts use it)."""
    model_name: str
    """Short model name: part of the data prefixes (`incoming/<model>/`, `pipelines/<model>/`)."""
    account_id: pulumi.Input[str]
    """Account the pipeline runs in."""
    region: str
    """Region the pipeline runs in."""
    kms_key_arn: pulumi.Input[str]
    """Key for job volumes and outputs, the code upload, the queue and the logs."""
    raw_bucket_name: pulumi.Input[str]
    """Bucket the raw data lands in (sends events to EventBridge when retraining on new data)."""
    curated_bucket_name: pulumi.Input[str]
    """Bucket the splits are written to."""
    artifacts_bucket_name: pulumi.Input[str]
    """Bucket of code, models, checkpoints and evaluation reports."""
    image_uri: pulumi.Input[str]
    """Image of every job, pinned by digest (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:...`)."""
    code_dir: str
    """Directory of the `model_code` package uploaded and run by the jobs."""
    description: str = ""
    """What the model predicts; shown on the model package group."""
    evaluation_threshold: float = 0.85
    """Minimum test ROC-AUC (0..1) for a version to be registered; below it the execution fails."""
    approval_status: ApprovalStatus = ApprovalStatus.PENDING_MANUAL_APPROVAL
    """Status of registered versions. The default waits for a person."""
    instance_type: str = "ml.m5.xlarge"
    """Training instance type."""
    instance_count: int = 1
    """Training instance count."""
    processing_instance_type: str = "ml.m5.large"
    """Instance type of preprocessing and evaluation."""
    volume_size_gb: int = 30
    """EBS volume of every job (encrypted with kms_key_arn)."""
    hyperparameters: dict[str, str] = field(default_factory=dict)
    """Flags of the training entry point."""
    max_runtime_minutes: int = 60
    """Time limit of every job."""
    spot_max_wait_minutes: int | None = None
    """Managed spot training with this wait limit (>= max_runtime_minutes), checkpointed per execution.
    None (the default): on-demand instances."""
    network_isolation: bool = True
    """Jobs run without network access (secure default)."""
    inter_container_encryption: bool = True
    """Traffic between a job's instances is encrypted (secure default)."""
    subnet_ids: list[str] = field(default_factory=list)
    """Private subnets the jobs run in; empty: no VPC."""
    security_group_ids: list[str] = field(default_factory=list)
    """Security groups of the jobs (with subnet_ids)."""
    retrain_on_new_data: bool = True
    """Retrain when objects land under `incoming/<model>/` of the raw bucket (debounced)."""
    retrain_on_drift: bool = True
    """Retrain when a CloudWatch alarm named `<pipeline_name>-drift...` goes to ALARM (debounced)."""
    debounce_minutes: int = 15
    """Quiet period after the last request before a retraining starts."""
    max_delay_minutes: int = 240
    """Longest a request waits behind a stream of later ones."""
    schedule: str | None = None
    """EventBridge Scheduler expression to retrain on regardless of data; None: no schedule."""
    schedule_timezone: str = "UTC"
    """Time zone of the schedule."""
    consumer_account_ids: list[str] = field(default_factory=list)
    """Accounts allowed to describe and list the registered versions. Empty: no group policy."""
    protect: bool = False
    """Protect the model package group (the registry) and retain it if removed from the program (prod)."""
    log_retention_days: int = 365
    """Days the trigger's logs are kept."""
    alarm_topic_arn: pulumi.Input[str] | None = None
    """SNS topic told when a retraining could not start (dead-letter queue not empty). None: no alarm."""
    partition: str = "aws"
    """AWS partition of the ARNs built here."""


def _problems(args: TrainingPipelineArgs) -> list[pulumi.InputPropertyErrorDetails]:
    found: list[tuple[str, str]] = []
    if not 0.0 <= args.evaluation_threshold <= 1.0:
        found.append(("evaluation_threshold", f"{args.evaluation_threshold} is not a ROC-AUC (0..1)"))
    if args.spot_max_wait_minutes is not None and args.spot_max_wait_minutes < args.max_runtime_minutes:
        found.append(("spot_max_wait_minutes", "must be at least max_runtime_minutes (SageMaker's rule)"))
    if bool(args.subnet_ids) != bool(args.security_group_ids):
        found.append(("subnet_ids", "subnet_ids and security_group_ids go together"))
    if args.max_delay_minutes < args.debounce_minutes:
        found.append(("max_delay_minutes", "must be at least debounce_minutes"))
    try:
        code_files(Path(args.code_dir))
    except CodeDirectoryError as exc:
        found.append(("code_dir", str(exc)))
    return [{"property_path": p, "reason": r} for p, r in found]


class TrainingPipeline(pulumi.ComponentResource):
    """Model package group (+ cross-account read policy), execution role, content-addressed code upload,
    SageMaker pipeline (generated with the SDK) and the retraining trigger of one model."""

    model_package_group: sm.ModelPackageGroup
    """The registry of the model's versions."""
    execution_role: aws.iam.Role
    """Role of the pipeline and its jobs."""
    pipeline: sm.Pipeline
    """The SageMaker pipeline."""
    trigger: RetrainTrigger
    """Rules, debounce function and schedules that start the pipeline."""
    code_sha256: str
    """Content hash of the uploaded model code (part of its S3 keys)."""
    code_uri: pulumi.Output[str]
    """`s3://<artifacts>/code/<model>/<sha256>/`: the code the jobs run."""
    pipeline_name: pulumi.Output[str]
    """Pipeline name."""
    pipeline_arn: pulumi.Output[str]
    """Pipeline ARN."""
    model_package_group_name: pulumi.Output[str]
    """Model package group name (= pipeline name)."""
    model_package_group_arn: pulumi.Output[str]
    """Model package group ARN."""
    execution_role_arn: pulumi.Output[str]
    """Execution role ARN."""

    def __init__(self, name: str, args: TrainingPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:training:TrainingPipeline", name, None, opts)
        if problems := _problems(args):
            raise pulumi.InputPropertiesError(f"TrainingPipeline {name}: invalid arguments", problems)
        child = pulumi.ResourceOptions(parent=self)
        self.model_package_group = self._registry(name, args)
        files = code_files(Path(args.code_dir))
        self.code_sha256 = code_sha256(files)
        self.code_uri = pulumi.Output.concat("s3://", args.artifacts_bucket_name, f"/{self._code_prefix(args)}/")
        code = self._upload_code(name, args, files)
        self.execution_role, role_policy = self._execution_role(name, args, child)
        self.pipeline = sm.Pipeline(
            f"{name}-pipeline",
            pipeline_name=args.pipeline_name,
            pipeline_display_name=args.pipeline_name,
            pipeline_description=f"Train, evaluate and register {args.model_name}"[:3072],
            role_arn=self.execution_role.arn,
            pipeline_definition=self._definition(args),
            # The first execution may start as soon as the pipeline exists: role and code must be in place.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=[role_policy, self.model_package_group, *code])),
        )
        self.trigger = self._trigger(name, args)
        self.pipeline_name = self.pipeline.pipeline_name
        self.pipeline_arn = self.pipeline.arn
        self.model_package_group_name = self.model_package_group.model_package_group_name
        self.model_package_group_arn = self.model_package_group.arn
        self.execution_role_arn = self.execution_role.arn
        self.register_outputs({
            "code_uri": self.code_uri, "pipeline_name": self.pipeline_name, "pipeline_arn": self.pipeline_arn,
            "model_package_group_name": self.model_package_group_name,
            "model_package_group_arn": self.model_package_group_arn, "execution_role_arn": self.execution_role_arn,
        })

    def _registry(self, name: str, args: TrainingPipelineArgs) -> sm.ModelPackageGroup:
        group = sm.ModelPackageGroup(
            f"{name}-registry",
            model_package_group_name=args.pipeline_name,
            model_package_group_description=(args.description or f"Versions of {args.model_name}")[:1024],
            tags={"model": args.model_name},
            # Versions, their approval history and metrics live here: deleting the group loses them.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        if args.consumer_account_ids:
            sm.ModelPackageGroupPolicy(
                f"{name}-registry-policy",
                model_package_group_name=group.model_package_group_name,
                resource_policy=group.arn.apply(lambda arn: json.dumps(
                    model_package_group_policy(args.partition, arn, args.consumer_account_ids))),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return group

    def _code_prefix(self, args: TrainingPipelineArgs) -> str:
        return f"{CODE_PREFIX}/{args.model_name}/{self.code_sha256}"

    def _upload_code(
        self, name: str, args: TrainingPipelineArgs, files: dict[str, Path]
    ) -> list[aws.s3.BucketObjectv2]:
        prefix = self._code_prefix(args)
        # The hash is in the key, so changed code is a new object and unchanged code no change at all. Old
        # versions are retained: running executions and registered versions still point at them.
        keep = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        return [
            aws.s3.BucketObjectv2(
                f"{name}-code-{key.removeprefix('model_code/').replace('/', '-')}",
                bucket=args.artifacts_bucket_name, key=f"{prefix}/{key}", source=pulumi.FileAsset(str(path)),
                content_type="text/x-python", server_side_encryption="aws:kms", kms_key_id=args.kms_key_arn,
                opts=keep,
            )
            for key, path in files.items()
        ]

    def _scope(self, args: TrainingPipelineArgs, account: str, role_arn: str, buckets: list[str], key: str,
               image: str) -> TrainingScope:
        raw, curated, artifacts = (f"arn:{args.partition}:s3:::{b}" for b in buckets)
        return TrainingScope(
            partition=args.partition, region=args.region, account_id=account, pipeline_name=args.pipeline_name,
            role_arn=role_arn, raw_bucket_arn=raw, raw_prefix=raw_prefix(args.model_name),
            curated_bucket_arn=curated, artifacts_bucket_arn=artifacts,
            work_prefix=f"{WORK_PREFIX}/{args.model_name}", code_prefix=f"{CODE_PREFIX}/{args.model_name}",
            kms_key_arn=key, image_repository_arn=repository_arn_of(image, args.partition),
            subnet_ids=tuple(args.subnet_ids), security_group_ids=tuple(args.security_group_ids),
        )

    def _execution_role(
        self, name: str, args: TrainingPipelineArgs, child: pulumi.ResourceOptions
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        role = aws.iam.Role(
            f"{name}-exec",
            description=f"SageMaker pipeline and jobs of {args.pipeline_name}",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(service_trust_policy("sagemaker.amazonaws.com", account))),
            opts=child,
        )
        document = pulumi.Output.all(
            args.account_id, role.arn, args.raw_bucket_name, args.curated_bucket_name, args.artifacts_bucket_name,
            args.kms_key_arn, args.image_uri,
        ).apply(lambda v: json.dumps(execution_role_policy(self._scope(args, v[0], v[1], v[2:5], v[5], v[6]))))
        return role, aws.iam.RolePolicy(f"{name}-exec-policy", role=role.id, policy=document, opts=child)

    def _definition(self, args: TrainingPipelineArgs) -> pulumi.Output[str]:
        def build(v: list[str]) -> str:
            role_arn, image, key, raw, curated, artifacts, code_uri = v
            return pipeline_definition(PipelineSpec(
                pipeline_name=args.pipeline_name, region=args.region, role_arn=role_arn, image_uri=image,
                kms_key_arn=key, raw_data_uri=f"s3://{raw}/{raw_prefix(args.model_name)}",
                curated_bucket=curated, artifacts_bucket=artifacts, work_prefix=f"{WORK_PREFIX}/{args.model_name}",
                code_uri=code_uri, code_sha256=self.code_sha256, model_package_group=args.pipeline_name,
                evaluation_threshold=args.evaluation_threshold, approval_status=args.approval_status.value,
                instance_type=args.instance_type, instance_count=args.instance_count,
                processing_instance_type=args.processing_instance_type, volume_size_gb=args.volume_size_gb,
                max_runtime_seconds=args.max_runtime_minutes * 60,
                spot_max_wait_seconds=args.spot_max_wait_minutes * 60 if args.spot_max_wait_minutes else None,
                network_isolation=args.network_isolation, inter_container_encryption=args.inter_container_encryption,
                hyperparameters=tuple(sorted(args.hyperparameters.items())),
                subnet_ids=tuple(args.subnet_ids), security_group_ids=tuple(args.security_group_ids),
            ))

        return pulumi.Output.all(
            self.execution_role.arn, args.image_uri, args.kms_key_arn, args.raw_bucket_name,
            args.curated_bucket_name, args.artifacts_bucket_name, self.code_uri,
        ).apply(build)

    def _trigger(self, name: str, args: TrainingPipelineArgs) -> RetrainTrigger:
        # Named like the pipeline (its type tells them apart) to keep its children's auto-names within the
        # 64 characters of IAM role and EventBridge rule names.
        return RetrainTrigger(
            name,
            RetrainTriggerArgs(
                pipeline_name=args.pipeline_name, pipeline_arn=self.pipeline.arn, account_id=args.account_id,
                region=args.region, kms_key_arn=args.kms_key_arn,
                raw_bucket_name=args.raw_bucket_name if args.retrain_on_new_data else None,
                raw_prefix=raw_prefix(args.model_name),
                drift_alarm_prefix=f"{args.pipeline_name}-drift" if args.retrain_on_drift else None,
                debounce_minutes=args.debounce_minutes, max_delay_minutes=args.max_delay_minutes,
                schedule=args.schedule, schedule_timezone=args.schedule_timezone,
                log_retention_days=args.log_retention_days, alarm_topic_arn=args.alarm_topic_arn,
                partition=args.partition,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
