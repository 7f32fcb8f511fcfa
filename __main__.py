"""The Pulumi program: the composition root only (settings -> components -> exports)."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import (
    Alerts,
    AlertsArgs,
    ApprovalStatus,
    DataLake,
    DataLakeArgs,
    ImageRepository,
    ImageRepositoryArgs,
    ModelEndpoint,
    ModelEndpointArgs,
    ServingMode,
    TrafficShifting,
    TrainingPipeline,
    TrainingPipelineArgs,
)
from mlops.settings import (
    PLACEHOLDER_ACCOUNT_ID,
    ApprovalPolicy,
    DeploymentStrategy,
    EndpointMode,
    ModelSettings,
    SettingsError,
    StackSettings,
    load_settings,
    read_pulumi_config,
    registry_of,
)

# Dev bootstrap: what `make train` packages, served until the first pipeline run registers a version.
BOOTSTRAP_ARTIFACT = "build/model/model.tar.gz"
# The model code the training pipelines upload and run (next to this file, wherever the CLI runs from).
MODEL_CODE_DIR = Path(__file__).resolve().parent / "model_code"


def _settings() -> StackSettings:
    try:
        return load_settings(pulumi.get_project(), pulumi.get_stack(), read_pulumi_config())
    except SettingsError as exc:
        # RunError fails the update with the message alone, before any resource is registered.
        raise pulumi.RunError(str(exc)) from None


def _aws_provider(settings: StackSettings) -> aws.Provider:
    return aws.Provider(
        "aws",
        region=settings.region,
        # The standard tags reach every AWS resource through the provider, so no component can forget them.
        default_tags=aws.ProviderDefaultTagsArgs(tags=settings.tags),
        # A stack file that names its account refuses to deploy anywhere else (e.g. prod config, dev creds).
        allowed_account_ids=None if settings.account_id == PLACEHOLDER_ACCOUNT_ID else [settings.account_id],
    )


def _data_lake(settings: StackSettings, account_id: pulumi.Input[str], opts: pulumi.ResourceOptions) -> DataLake:
    lake = settings.data_lake
    return DataLake(
        settings.name_prefix,
        DataLakeArgs(
            account_id=account_id,
            region=settings.region,
            protect=settings.protect_data,
            force_destroy=lake.force_destroy,
            noncurrent_version_days=lake.noncurrent_version_days,
            abort_incomplete_multipart_days=lake.abort_incomplete_multipart_days,
            raw_intelligent_tiering_days=lake.raw_intelligent_tiering_days,
            raw_glacier_days=lake.raw_glacier_days,
            access_log_retention_days=lake.access_log_retention_days,
            # Staging and prod serve the versions this stack registers: they read their artifacts from here.
            artifact_reader_account_ids=settings.registry.consumer_account_ids,
        ),
        opts=opts,
    )


def _image_registry(settings: StackSettings, account_id: pulumi.Input[str]) -> pulumi.Input[str]:
    return settings.image.account_id or account_id


def _image_uri(settings: StackSettings, account_id: pulumi.Input[str]) -> pulumi.Output[str] | None:
    image = settings.image
    if image.digest is None:
        return None
    return pulumi.Output.concat(
        _image_registry(settings, account_id), f".dkr.ecr.{settings.region}.amazonaws.com/{image.repository}@",
        image.digest,
    )


def _image_repository(
    settings: StackSettings, lake: DataLake, opts: pulumi.ResourceOptions
) -> ImageRepository | None:
    """The repository CI pushes to, when this stack's account is the registry (else the image lives elsewhere)."""
    image = settings.image
    if image.account_id not in (None, settings.account_id):
        return None
    return ImageRepository(
        f"{settings.name_prefix}-images",
        ImageRepositoryArgs(
            repository_name=image.repository, kms_key_arn=lake.key_arn,
            consumer_account_ids=settings.registry.consumer_account_ids,
            untagged_expiry_days=image.untagged_expiry_days, protect=settings.protect_data,
        ),
        opts=opts,
    )


def _training_pipeline(
    settings: StackSettings, model: ModelSettings, lake: DataLake, alerts: Alerts, account_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> TrainingPipeline | None:
    image = _image_uri(settings, account_id)
    if image is None:
        # Dev before CI's first push: the registry and repository come first, the pipeline with the digest.
        pulumi.warn(f"model '{model.name}': no training pipeline until mlops:image.digest is set (CI's first push)")
        return None
    training, network = model.training, settings.network
    name = settings.model_resource_name(model)
    return TrainingPipeline(
        name,
        TrainingPipelineArgs(
            pipeline_name=name, model_name=model.name, description=model.description, account_id=account_id,
            region=settings.region, kms_key_arn=lake.key_arn, raw_bucket_name=lake.buckets["raw"].name,
            curated_bucket_name=lake.buckets["curated"].name, artifacts_bucket_name=lake.buckets["artifacts"].name,
            image_uri=image, code_dir=str(MODEL_CODE_DIR), evaluation_threshold=training.evaluation_threshold,
            approval_status=ApprovalStatus.APPROVED if training.approval is ApprovalPolicy.AUTO
            else ApprovalStatus.PENDING_MANUAL_APPROVAL,
            instance_type=training.instance_type, instance_count=training.instance_count,
            processing_instance_type=training.processing_instance_type, volume_size_gb=training.volume_size_gb,
            hyperparameters=training.hyperparameter_strings, max_runtime_minutes=training.max_runtime_minutes,
            spot_max_wait_minutes=training.spot_max_wait_minutes, network_isolation=training.network_isolation,
            inter_container_encryption=training.inter_container_encryption,
            subnet_ids=network.subnet_ids if network else [],
            security_group_ids=list(network.security_group_ids) if network else [],
            retrain_on_new_data=training.retrain_on_new_data, debounce_minutes=training.debounce_minutes,
            max_delay_minutes=training.max_delay_minutes, schedule=training.schedule,
            schedule_timezone=training.schedule_timezone,
            consumer_account_ids=settings.registry.consumer_account_ids, protect=settings.protect_data,
            alarm_topic_arn=alerts.topic_arn,
        ),
        opts=opts,
    )


def _registry_artifacts(
    settings: StackSettings, model: ModelSettings, lake: DataLake
) -> tuple[list[pulumi.Input[str]], list[pulumi.Input[str]]]:
    """Where a pinned version's artifact lives: this stack's lake, or the registering stack's (usually dev's),
    whose artifacts bucket and key must grant this account read access (docs/endpoints.md)."""
    registry = registry_of(model.model_package_arn or "", model.name)  # the settings checked it
    if registry is None:
        return [], []
    if (registry.account_id, registry.name_prefix) == (settings.account_id, settings.name_prefix):
        return [pulumi.Output.concat(lake.buckets["artifacts"].arn, "/*")], [lake.key_arn]
    return (
        [f"arn:aws:s3:::{registry.name_prefix}-artifacts-*/*"],  # DataLake auto-names "<prefix>-artifacts-..."
        [f"arn:aws:kms:{registry.region}:{registry.account_id}:key/*"],
    )


def _model_endpoint(
    settings: StackSettings, model: ModelSettings, lake: DataLake, alerts: Alerts, account_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> ModelEndpoint:
    name, endpoint = settings.model_resource_name(model), model.endpoint
    deployment, scaling, alarms = endpoint.deployment, endpoint.autoscaling, endpoint.alarms
    instance = endpoint.mode is EndpointMode.INSTANCE
    network = settings.network if instance else None
    reads, keys = _registry_artifacts(settings, model, lake)
    return ModelEndpoint(
        name,
        ModelEndpointArgs(
            endpoint_name=name, account_id=account_id, region=settings.region, kms_key_arn=lake.key_arn,
            capture_bucket=lake.buckets["capture"].name, alarm_topic_arn=alerts.topic_arn,
            image_repository_arn=pulumi.Output.concat(
                f"arn:aws:ecr:{settings.region}:", _image_registry(settings, account_id),
                f":repository/{settings.image.repository}"),
            model_package_arn=model.model_package_arn, artifact_read_arns=reads, artifact_key_arns=keys,
            bootstrap_artifact_path=None if model.model_package_arn else BOOTSTRAP_ARTIFACT,
            artifacts_bucket=lake.buckets["artifacts"].name, image_uri=_image_uri(settings, account_id),
            mode=ServingMode(endpoint.mode.value), instance_type=endpoint.instance_type,
            min_instances=endpoint.min_instances, max_instances=endpoint.max_instances,
            memory_mb=endpoint.memory_mb, max_concurrency=endpoint.max_concurrency,
            data_capture_percent=endpoint.capture_percent,
            traffic_shifting=TrafficShifting(deployment.strategy.value.upper()) if instance else None,
            shift_percent=deployment.canary_percent if deployment.strategy is DeploymentStrategy.CANARY
            else deployment.linear_step_percent,
            wait_seconds=deployment.wait_seconds, termination_wait_seconds=deployment.termination_wait_seconds,
            timeout_seconds=deployment.timeout_seconds,
            target_invocations_per_instance=scaling.target_invocations_per_instance,
            scale_in_cooldown_seconds=scaling.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds=scaling.scale_out_cooldown_seconds,
            errors_per_minute=alarms.errors_per_minute, latency_p99_ms=alarms.latency_p99_ms,
            alarm_evaluation_minutes=alarms.evaluation_minutes, log_retention_days=endpoint.log_retention_days,
            subnet_ids=network.subnet_ids if network else [],
            security_group_ids=list(network.security_group_ids) if network else [],
        ),
        opts=opts,
    )


def main() -> None:
    settings = _settings()
    provider = _aws_provider(settings)
    aws_opts = pulumi.ResourceOptions(providers=[provider])
    account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id

    lake = _data_lake(settings, account_id, aws_opts)
    alerts = Alerts(
        f"{settings.name_prefix}-alerts",
        AlertsArgs(account_id=account_id, region=settings.region, kms_key_arn=lake.key_arn),
        opts=aws_opts,
    )
    images = _image_repository(settings, lake, aws_opts)
    pipelines: dict[str, TrainingPipeline] = {}
    endpoints: dict[str, pulumi.Output[str]] = {}
    for model in settings.models:
        if pipeline := _training_pipeline(settings, model, lake, alerts, account_id, aws_opts):
            pipelines[model.name] = pipeline
        endpoints[model.name] = _model_endpoint(settings, model, lake, alerts, account_id, aws_opts).endpoint_name

    pulumi.export("environment", settings.environment.value)
    pulumi.export("accountId", account_id)
    pulumi.export("region", settings.region)
    pulumi.export("dataKeyArn", lake.key_arn)
    pulumi.export("buckets", lake.bucket_names)
    pulumi.export("alertTopicArn", alerts.topic_arn)
    pulumi.export("endpoints", endpoints)
    pulumi.export("imageRepositoryUrl", images.repository_url if images else None)
    pulumi.export("trainingPipelines", {
        name: {"pipelineArn": p.pipeline_arn, "modelPackageGroupArn": p.model_package_group_arn,
               "executionRoleArn": p.execution_role_arn, "codeUri": p.code_uri,
               "retrainFunctionArn": p.trigger.function_arn}
        for name, p in pipelines.items()
    })


main()
