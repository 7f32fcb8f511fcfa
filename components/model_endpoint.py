"""ModelEndpoint: one pinned model version on a SageMaker real-time endpoint, safely updated and scaled."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor

from ._endpoint_policies import ExecutionRoleScope, model_execution_policy, sagemaker_assume_role_policy
from ._waivers import waiver_tags
from .endpoint_alarms import EndpointAlarms, EndpointAlarmsArgs

VARIANT_NAME = "AllTraffic"  # blue/green updates need the same variant name in the old and new config
CAPTURE_PREFIX = "datacapture"
BOOTSTRAP_PREFIX = "bootstrap"
# Instance types with local NVMe storage: SageMaker encrypts it itself and rejects a volume KMS key.
_LOCAL_STORAGE = re.compile(r"^ml\.([a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|p5en|trn1|trn1n|trn2)\.")
# Guardrails serverless endpoints cannot meet (SageMaker's feature exclusions for Serverless Inference),
# waived on the resource with the reason as tags the policy pack reads (policy/_waivers.py).
_SERVERLESS_MODEL_WAIVERS = {
    "sagemaker-model-network-isolation": "Serverless Inference does not support network isolation",
    "sagemaker-model-in-vpc": "Serverless Inference does not support a VPC configuration",
}
_SERVERLESS_CONFIG_WAIVERS = {"sagemaker-endpoint-data-capture": "Serverless Inference does not support data capture"}
sm = aws.sagemaker
aas = aws.appautoscaling


class ServingMode(enum.StrEnum):
    """Where the model runs."""

    SERVERLESS = "serverless"
    """Serverless Inference: no instances, no VPC, no data capture, no autoscaling policy (SageMaker's rules)."""
    INSTANCE = "instance"
    """Dedicated instances: VPC, network isolation, data capture, blue/green deployment, autoscaling."""


class TrafficShifting(enum.StrEnum):
    """Blue/green traffic shifting of an instance-backed endpoint update."""

    CANARY = "CANARY"
    LINEAR = "LINEAR"
    ALL_AT_ONCE = "ALL_AT_ONCE"


@dataclass
class ModelEndpointArgs:
    """Inputs of a ModelEndpoint. Give either `model_package_arn` or the bootstrap trio
    (`bootstrap_artifact_path`, `artifacts_bucket`, `image_uri`), never both."""

    endpoint_name: str
    """Fixed endpoint name; alarms, the CLI and other stacks refer to it."""
    account_id: pulumi.Input[str]
    """Account the endpoint runs in."""
    region: str
    """Region the endpoint runs in."""
    kms_key_arn: pulumi.Input[str]
    """Key for the ML storage volumes, data capture, logs and the bootstrap artifact."""
    capture_bucket: pulumi.Input[str]
    """Bucket (name) data capture writes to, under `datacapture/<endpoint name>/`."""
    alarm_topic_arn: pulumi.Input[str]
    """SNS topic the endpoint's alarms notify."""
    image_repository_arn: pulumi.Input[str]
    """ECR repository the serving image comes from; the execution role may pull from it only."""
    model_package_arn: str | None = None
    """Registered model version to serve: SageMaker takes the image (by digest) and the artifact the version
    was approved with. None means dev bootstrap (below)."""
    artifact_read_arns: list[pulumi.Input[str]] = field(default_factory=list)
    """S3 object ARNs (patterns allowed) of the model package's artifact; required with model_package_arn."""
    artifact_key_arns: list[pulumi.Input[str]] = field(default_factory=list)
    """KMS keys that decrypt that artifact; required with model_package_arn."""
    bootstrap_artifact_path: str | None = None
    """Local model.tar.gz uploaded and served before any version is registered (dev). Must exist at
    deployment; the offline plan records it without reading it."""
    artifacts_bucket: pulumi.Input[str] | None = None
    """Bucket (name) the bootstrap artifact is uploaded to."""
    image_uri: pulumi.Input[str] | None = None
    """Image (`<registry>/<repository>@sha256:...`) serving the bootstrap artifact."""
    mode: ServingMode = ServingMode.SERVERLESS
    """Serverless (default: costs nothing idle) or instance-backed."""
    instance_type: str = "ml.m5.large"
    """Instance type (instance mode)."""
    min_instances: int = 1
    """Instances at creation and the autoscaling floor (instance mode)."""
    max_instances: int = 1
    """Autoscaling ceiling (instance mode)."""
    memory_mb: int = 2048
    """Serverless memory, 1024-6144 in 1024 steps."""
    max_concurrency: int = 5
    """Serverless concurrent invocations."""
    data_capture_percent: int = 0
    """Requests and responses captured, percent; 0 turns capture off (always off when serverless)."""
    traffic_shifting: TrafficShifting | None = None
    """Blue/green traffic shifting with rollback on the alarms (instance mode). None: SageMaker's default
    all-at-once blue/green without rollback alarms."""
    shift_percent: int = 10
    """Canary size, or linear step, in percent of capacity."""
    wait_seconds: int = 300
    """Baking period after each shift."""
    termination_wait_seconds: int = 300
    """Final bake before the old fleet is terminated."""
    timeout_seconds: int = 3600
    """Limit of a whole deployment."""
    target_invocations_per_instance: int = 100
    """Autoscaling target, invocations per instance per minute (instance mode)."""
    scale_in_cooldown_seconds: int = 300
    """Wait after a scale-in."""
    scale_out_cooldown_seconds: int = 60
    """Wait after a scale-out."""
    errors_per_minute: int = 5
    """5xx errors per minute that fire the error alarm."""
    latency_p99_ms: int = 1000
    """p99 model latency (ms) that fires the latency alarm."""
    alarm_evaluation_minutes: int = 2
    """Breaching minutes before an alarm fires."""
    log_retention_days: int = 365
    """Days the endpoint's CloudWatch logs are kept."""
    subnet_ids: list[str] = field(default_factory=list)
    """Private subnets for the model (instance mode); empty runs it outside a VPC."""
    security_group_ids: list[str] = field(default_factory=list)
    """Security groups of the model's network interfaces (with subnet_ids)."""


def _problems(args: ModelEndpointArgs) -> list[pulumi.InputPropertyErrorDetails]:
    found: list[tuple[str, str]] = []
    bootstrap = (args.bootstrap_artifact_path, args.artifacts_bucket, args.image_uri)
    if (args.model_package_arn is None) == (args.bootstrap_artifact_path is None):
        found.append(("model_package_arn", "give a model_package_arn or a bootstrap_artifact_path, exactly one"))
    if args.bootstrap_artifact_path is not None and None in bootstrap:
        found.append(("bootstrap_artifact_path", "needs artifacts_bucket and image_uri as well"))
    if args.model_package_arn is not None and not (args.artifact_read_arns and args.artifact_key_arns):
        found.append(("artifact_read_arns", "a model package needs artifact_read_arns and artifact_key_arns"))
    if args.mode is ServingMode.INSTANCE and not 1 <= args.min_instances <= args.max_instances:
        found.append(("min_instances", f"need 1 <= min_instances ({args.min_instances}) <= max_instances"))
    if args.mode is ServingMode.SERVERLESS and (args.data_capture_percent or args.subnet_ids):
        found.append(("mode", "serverless endpoints support neither data capture nor a VPC"))
    if bool(args.subnet_ids) != bool(args.security_group_ids):
        found.append(("subnet_ids", "subnet_ids and security_group_ids go together"))
    return [{"property_path": p, "reason": r} for p, r in found]


def _offline() -> bool:
    # The offline plan and unit tests run under Pulumi's mock monitor, which never reads assets.
    return isinstance(runtime_settings.get_monitor(), MockMonitor)


class ModelEndpoint(pulumi.ComponentResource):
    """Execution role, SageMaker model, endpoint configuration (data capture, KMS), endpoint (blue/green with
    rollback alarms), autoscaling and logs of one model."""

    endpoint: sm.Endpoint
    """The endpoint."""
    endpoint_name: pulumi.Output[str]
    """Its (fixed) name."""
    model: sm.Model
    """The SageMaker model (auto-named; replaced whenever the pinned version changes)."""
    endpoint_config: sm.EndpointConfiguration
    """The endpoint configuration (auto-named and immutable: replaced, never updated)."""
    role: aws.iam.Role
    """The model's execution role."""
    alarms: EndpointAlarms
    """The 5xx and latency alarms."""
    bootstrap_artifact: aws.s3.BucketObjectv2 | None
    """The uploaded model.tar.gz (dev bootstrap), else None."""
    scaling_policy: aws.appautoscaling.Policy | None
    """Target-tracking policy (instance mode), else None."""
    capture_s3_uri: pulumi.Output[str] | None
    """Where captured requests land (`s3://.../datacapture/<endpoint>/`), None when capture is off."""

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:serving:ModelEndpoint", name, None, opts)
        if problems := _problems(args):
            raise pulumi.InputPropertiesError(f"ModelEndpoint {name}: invalid arguments", problems)
        instance = args.mode is ServingMode.INSTANCE
        capture = instance and args.data_capture_percent > 0
        rollback = instance and args.traffic_shifting is not None
        child = pulumi.ResourceOptions(parent=self)
        # After a silent SageMaker rollback the provider may delete the config (and model) still in use
        # (terraform-provider-aws #48997), so with rollback on, superseded ones are left behind, not deleted.
        superseded = pulumi.ResourceOptions(parent=self, retain_on_delete=rollback)
        self.bootstrap_artifact = self._upload(name, args, child) if args.bootstrap_artifact_path else None
        self.role, role_policy = self._execution_role(name, args, capture, child)
        self.model = self._model(name, args, instance, pulumi.ResourceOptions.merge(
            superseded, pulumi.ResourceOptions(depends_on=[role_policy])))
        self.alarms = EndpointAlarms(f"{name}-alarms", EndpointAlarmsArgs(
            endpoint_name=args.endpoint_name, alarm_topic_arn=args.alarm_topic_arn, variant_name=VARIANT_NAME,
            errors_per_minute=args.errors_per_minute, latency_p99_ms=args.latency_p99_ms,
            evaluation_minutes=args.alarm_evaluation_minutes), opts=child)
        self.endpoint_config = self._endpoint_config(name, args, instance, capture, superseded)
        # Created first so SageMaker writes into an encrypted group with retention instead of making its own.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/sagemaker/Endpoints/{args.endpoint_name}",
            retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn, opts=child)
        self.endpoint = sm.Endpoint(
            f"{name}-endpoint", name=args.endpoint_name, endpoint_config_name=self.endpoint_config.name,
            deployment_config=self._deployment(args) if rollback else None,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[logs])))
        self.scaling_policy = self._autoscaling(name, args, child) if instance else None
        self.endpoint_name = self.endpoint.name
        self.capture_s3_uri = (
            pulumi.Output.concat("s3://", args.capture_bucket, f"/{CAPTURE_PREFIX}/{args.endpoint_name}/")
            if capture else None)
        self.register_outputs({"endpoint_name": self.endpoint_name, "capture_s3_uri": self.capture_s3_uri})

    def _upload(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions) -> aws.s3.BucketObjectv2:
        path = args.bootstrap_artifact_path or ""
        if not Path(path).is_file() and not _offline():
            raise pulumi.RunError(
                f"{name}: {Path(path).resolve()} does not exist. With no model version pinned, the stack serves "
                "the locally packaged model: run `make train` (python -m model_code train-local --out build/model) "
                "first, or pin a registered version with modelPackageArn.")
        return aws.s3.BucketObjectv2(
            f"{name}-bootstrap-artifact", bucket=args.artifacts_bucket,
            key=f"{BOOTSTRAP_PREFIX}/{args.endpoint_name}/model.tar.gz", source=pulumi.FileAsset(path),
            server_side_encryption="aws:kms", kms_key_id=args.kms_key_arn, opts=opts)

    def _execution_role(
        self, name: str, args: ModelEndpointArgs, capture: bool, opts: pulumi.ResourceOptions
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        role = aws.iam.Role(
            f"{name}-role", description=f"SageMaker execution role of endpoint {args.endpoint_name}",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(sagemaker_assume_role_policy(account))), opts=opts)
        reads, keys = list(args.artifact_read_arns), list(args.artifact_key_arns)
        if self.bootstrap_artifact is not None:
            reads.append(pulumi.Output.concat("arn:aws:s3:::", self.bootstrap_artifact.bucket, "/",
                                              self.bootstrap_artifact.key))
            keys.append(args.kms_key_arn)
        in_vpc = args.mode is ServingMode.INSTANCE and bool(args.subnet_ids)

        def document(v: list) -> str:
            account, repo, reads_, keys_, bucket, key = v
            ec2 = f"arn:aws:ec2:{args.region}:{account}"
            return json.dumps(model_execution_policy(ExecutionRoleScope(
                account_id=account, region=args.region, endpoint_name=args.endpoint_name,
                image_repository_arn=repo, artifact_object_arns=reads_, artifact_key_arns=keys_,
                capture_prefix_arn=f"arn:aws:s3:::{bucket}/{CAPTURE_PREFIX}/{args.endpoint_name}" if capture else None,
                capture_key_arn=key if capture else None,
                subnet_arns=[f"{ec2}:subnet/{s}" for s in args.subnet_ids] if in_vpc else [],
                security_group_arns=[f"{ec2}:security-group/{g}" for g in args.security_group_ids] if in_vpc else [],
            )))

        role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy", role=role.id,
            policy=pulumi.Output.all(args.account_id, args.image_repository_arn, pulumi.Output.all(*reads),
                                     pulumi.Output.all(*keys), args.capture_bucket, args.kms_key_arn).apply(document),
            opts=opts)
        return role, role_policy

    def _model(self, name: str, args: ModelEndpointArgs, instance: bool, opts: pulumi.ResourceOptions) -> sm.Model:
        if args.model_package_arn is not None:
            container = sm.ModelPrimaryContainerArgs(model_package_name=args.model_package_arn)
        else:
            artifact = self.bootstrap_artifact
            assert artifact is not None
            container = sm.ModelPrimaryContainerArgs(
                image=args.image_uri,
                model_data_url=pulumi.Output.concat("s3://", artifact.bucket, "/", artifact.key),
                # The key never changes, so a re-trained upload would not reach the endpoint; the object version
                # in the environment replaces the model (and so redeploys) whenever the file changes.
                environment={"MODEL_ARTIFACT_VERSION": artifact.version_id})
        vpc = sm.ModelVpcConfigArgs(subnets=args.subnet_ids, security_group_ids=args.security_group_ids)
        return sm.Model(
            f"{name}-model", execution_role_arn=self.role.arn, primary_container=container,
            # Serverless Inference supports neither network isolation nor a VPC.
            enable_network_isolation=instance,
            vpc_config=vpc if instance and args.subnet_ids else None,
            tags=None if instance else waiver_tags(_SERVERLESS_MODEL_WAIVERS), opts=opts)

    def _endpoint_config(self, name: str, args: ModelEndpointArgs, instance: bool, capture: bool,
                         opts: pulumi.ResourceOptions) -> sm.EndpointConfiguration:
        capacity = (
            {"instance_type": args.instance_type, "initial_instance_count": args.min_instances} if instance else
            {"serverless_config": sm.EndpointConfigurationProductionVariantServerlessConfigArgs(
                memory_size_in_mb=args.memory_mb, max_concurrency=args.max_concurrency)})
        variant = sm.EndpointConfigurationProductionVariantArgs(
            variant_name=VARIANT_NAME, model_name=self.model.name, initial_variant_weight=1.0, **capacity)
        capture_config = sm.EndpointConfigurationDataCaptureConfigArgs(
            enable_capture=True, initial_sampling_percentage=args.data_capture_percent,
            destination_s3_uri=pulumi.Output.concat("s3://", args.capture_bucket, f"/{CAPTURE_PREFIX}"),
            kms_key_id=args.kms_key_arn,
            capture_options=[sm.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode=m)
                             for m in ("Input", "Output")],
            capture_content_type_header=sm.EndpointConfigurationDataCaptureConfigCaptureContentTypeHeaderArgs(
                csv_content_types=["text/csv"], json_content_types=["application/json"]))
        # No volume key where there is no ML storage volume to encrypt: serverless variants have none, and
        # SageMaker encrypts local NVMe storage itself (and refuses a key for it).
        volume_key = instance and _LOCAL_STORAGE.match(args.instance_type) is None
        return sm.EndpointConfiguration(
            f"{name}-config", production_variants=[variant],
            kms_key_arn=args.kms_key_arn if volume_key else None,
            data_capture_config=capture_config if capture else None,
            tags=None if instance else waiver_tags(_SERVERLESS_CONFIG_WAIVERS), opts=opts)

    def _deployment(self, args: ModelEndpointArgs) -> sm.EndpointDeploymentConfigArgs:
        shifting = args.traffic_shifting or TrafficShifting.ALL_AT_ONCE
        size = {"type": "CAPACITY_PERCENT", "value": args.shift_percent}
        routing = sm.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(
            type=shifting.value, wait_interval_in_seconds=args.wait_seconds,
            canary_size=size if shifting is TrafficShifting.CANARY else None,
            linear_step_size=size if shifting is TrafficShifting.LINEAR else None)
        return sm.EndpointDeploymentConfigArgs(
            blue_green_update_policy=sm.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
                traffic_routing_configuration=routing, termination_wait_in_seconds=args.termination_wait_seconds,
                maximum_execution_timeout_in_seconds=args.timeout_seconds),
            auto_rollback_configuration=sm.EndpointDeploymentConfigAutoRollbackConfigurationArgs(alarms=[
                sm.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=alarm.name)
                for alarm in (self.alarms.errors, self.alarms.latency)]))

    def _autoscaling(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions) -> aas.Policy:
        target = aas.Target(
            f"{name}-scaling-target", service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            # From the endpoint's output, so the variant exists before it is registered.
            resource_id=self.endpoint.name.apply(lambda n: f"endpoint/{n}/variant/{VARIANT_NAME}"),
            min_capacity=args.min_instances, max_capacity=args.max_instances, opts=opts)
        tracking = aas.PolicyTargetTrackingScalingPolicyConfigurationArgs(
            target_value=float(args.target_invocations_per_instance),
            predefined_metric_specification=aas.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="SageMakerVariantInvocationsPerInstance"),
            # Slow in (ride out dips), fast out (meet bursts).
            scale_in_cooldown=args.scale_in_cooldown_seconds, scale_out_cooldown=args.scale_out_cooldown_seconds)
        return aas.Policy(
            f"{name}-scaling-policy", policy_type="TargetTrackingScaling", resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension, service_namespace=target.service_namespace,
            target_tracking_scaling_policy_configuration=tracking, opts=opts)
