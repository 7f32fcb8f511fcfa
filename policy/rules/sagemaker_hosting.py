"""SageMaker hosting: models, endpoint configurations, endpoints and their deployment guardrails, the registry."""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from .._graph import names_of, of_types, prop
from .._iam import allow_statements
from .._props import as_list, get, is_false, is_list, is_set, is_true, number
from .._rule import ADVISORY_IN_DEV, OFF_IN_DEV, resource_rule, stack_rule
from ._sagemaker import has_instance_storage

MODEL = "aws:sagemaker/model:Model"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
REGISTRY_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
ALARMS = ("aws:cloudwatch/metricAlarm:MetricAlarm",)

MIN_VARIANT_INSTANCES = 2
GUARDED_TRAFFIC_MODES = ("CANARY", "LINEAR")
# pulumi-aws waits up to 60 minutes for an updated endpoint to be InService (TF PR #39090); keep 10 minutes of
# that for provisioning the new fleet, or `pulumi up` fails while SageMaker is still baking.
PROVIDER_WAIT_SECONDS = 3600
PROVISIONING_HEADROOM_SECONDS = 600
REGISTRY_READ_ACTIONS = (
    "sagemaker:describe*",
    "sagemaker:list*",
    "sagemaker:batchdescribe*",
    "sagemaker:search",
    # Another account builds a Model from the package ARN; that is what promotion needs.
    "sagemaker:createmodel",
)


def _containers(props: Mapping[str, Any]) -> list[Any]:
    primary = get(props, "primaryContainer")
    return ([primary] if primary is not None else []) + as_list(get(props, "containers"))


@resource_rule(
    name="sagemaker-model-network-isolation",
    ids=("CKV_AWS_370", "SageMaker.5", "prowler:sagemaker_models_network_isolation_enabled"),
    summary="Inference containers run with network isolation (no outbound calls from the model)",
    fix="Set enable_network_isolation=True on aws.sagemaker.Model",
    types=(MODEL,),
)
def model_network_isolation(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if not is_true(get(args.props, "enableNetworkIsolation")):
        yield "model without network isolation"


@resource_rule(
    name="sagemaker-model-in-vpc",
    ids=("prowler:sagemaker_models_vpc_settings_configured", "REF-19"),
    summary="Models run in the stack's VPC (private subnets and a security group)",
    fix="Set vpc_config={'subnets': private_subnet_ids, 'security_group_ids': [sg.id]} on aws.sagemaker.Model",
    types=(MODEL,),
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def model_in_vpc(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if not is_set(args.props, "vpcConfig", "subnets") or not is_set(args.props, "vpcConfig", "securityGroupIds"):
        yield "model has no vpc_config with subnets and security groups"


@resource_rule(
    name="sagemaker-model-from-registry",
    ids=("prowler:sagemaker_models_registry_in_use", "REF-27"),
    summary="Staging and prod serve only registered model versions (containers reference a model package)",
    fix="Build the model from the approved package: primary_container={'model_package_name': <package ARN>} "
    "(mlops:models[].modelPackageArn, written by `mlops promote`)",
    types=(MODEL,),
    levels=OFF_IN_DEV,
)
def model_from_registry(args: ResourceValidationArgs, env: str) -> Iterator[str]:
    containers = _containers(args.props)
    if not containers:
        yield "model has no container"
    for index, container in enumerate(containers):
        if not is_set(container, "modelPackageName"):
            yield f"container {index} serves an image/artifact directly, not a registered model package ({env})"


def _variants(props: Mapping[str, Any]) -> list[Any]:
    return as_list(get(props, "productionVariants"))


@resource_rule(
    name="sagemaker-endpoint-config-kms",
    ids=("CKV_AWS_98", "prowler:sagemaker_endpoint_config_kms_encryption_enabled"),
    summary="Endpoint configurations encrypt the ML storage volume with KMS (instance types with local NVMe "
    "storage and serverless variants are exempt: SageMaker refuses a key for them)",
    fix="Set kms_key_arn=key.arn on aws.sagemaker.EndpointConfiguration",
    types=(ENDPOINT_CONFIG,),
)
def endpoint_config_kms(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    needs_key = [
        v
        for v in _variants(args.props)
        if get(v, "serverlessConfig") is None and not has_instance_storage(get(v, "instanceType"))
    ]
    if needs_key and not is_set(args.props, "kmsKeyArn"):
        yield "endpoint configuration has no kms_key_arn for its storage volumes"


@resource_rule(
    name="sagemaker-endpoint-variant-ha",
    ids=("SageMaker.4", "prowler:sagemaker_endpoint_config_prod_variant_instances"),
    summary=f"Every instance-based production variant starts with at least {MIN_VARIANT_INSTANCES} instances",
    fix=f"Set initial_instance_count >= {MIN_VARIANT_INSTANCES} on each production variant",
    types=(ENDPOINT_CONFIG,),
    levels=ADVISORY_IN_DEV,
)
def endpoint_variant_ha(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for variant in _variants(args.props):
        if get(variant, "serverlessConfig") is not None:
            continue
        count = number(get(variant, "initialInstanceCount"))
        if count is None or count < MIN_VARIANT_INSTANCES:
            shown = "unset" if count is None else int(count)
            yield f"variant {get(variant, 'variantName', default='?')} has initial_instance_count {shown}"


@resource_rule(
    name="sagemaker-endpoint-data-capture",
    ids=("prowler:sagemaker_models_monitor_enabled", "REF-24"),
    summary="Endpoints capture a sample of requests and responses for model monitoring",
    fix="Set data_capture_config={'enable_capture': True, 'initial_sampling_percentage': N, "
    "'destination_s3_uri': 's3://<capture bucket>/...', 'kms_key_id': key.arn, 'capture_options': "
    "[{'capture_mode': 'Input'}, {'capture_mode': 'Output'}]}",
    types=(ENDPOINT_CONFIG,),
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def endpoint_data_capture(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    capture = get(args.props, "dataCaptureConfig")
    if capture is None or is_false(get(capture, "enableCapture")):
        yield "endpoint configuration does not capture data"
    elif (number(get(capture, "initialSamplingPercentage")) or 0) <= 0:
        yield "data capture samples 0% of requests"


@resource_rule(
    name="sagemaker-endpoint-data-capture-encrypted",
    ids=("REF-24",),
    summary="Captured requests and responses are encrypted with a KMS key",
    fix="Set data_capture_config.kms_key_id=key.arn",
    types=(ENDPOINT_CONFIG,),
)
def endpoint_data_capture_encrypted(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    capture = get(args.props, "dataCaptureConfig")
    if capture is not None and not is_false(get(capture, "enableCapture")) and not is_set(capture, "kmsKeyId"):
        yield "data capture without kms_key_id"


@resource_rule(
    name="sagemaker-endpoint-config-autonamed",
    ids=("REF-0.5", "TF PR #48993"),
    summary="Endpoint configurations are auto-named: they are immutable, so every change replaces them, and a "
    "fixed name collides with the configuration the endpoint still uses",
    fix="Drop name= from aws.sagemaker.EndpointConfiguration and let Pulumi auto-name it",
    types=(ENDPOINT_CONFIG,),
)
def endpoint_config_autonamed(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    name = get(args.props, "name")
    # Under `pulumi preview` the provider has already filled in the auto-name: <logical name>-<7 hex>.
    if isinstance(name, str) and not re.fullmatch(re.escape(args.name) + r"-[0-9a-f]{7}", name):
        yield f"endpoint configuration has the fixed name '{name}'"


def _deployment(props: Mapping[str, Any]) -> Any:
    return get(props, "deploymentConfig")


@resource_rule(
    name="sagemaker-endpoint-deployment-guardrails",
    ids=("REF-22",),
    summary="Endpoint updates shift traffic gradually (blue/green CANARY or LINEAR, or rolling) with a baking period",
    fix="Set deployment_config={'blue_green_update_policy': {'traffic_routing_configuration': {'type': 'CANARY', "
    "'canary_size': {'type': 'CAPACITY_PERCENT', 'value': 10}, 'wait_interval_in_seconds': 600}, ...}, ...}",
    types=(ENDPOINT,),
    levels=ADVISORY_IN_DEV,
)
def endpoint_deployment_guardrails(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    config = _deployment(args.props)
    rolling = get(config, "rollingUpdatePolicy")
    routing = get(config, "blueGreenUpdatePolicy", "trafficRoutingConfiguration")
    if rolling is not None:
        if (number(get(rolling, "waitIntervalInSeconds")) or 0) <= 0:
            yield "rolling update without a baking period (wait_interval_in_seconds)"
    elif routing is None:
        yield "no deployment_config: updates move all traffic at once without baking"
    else:
        mode = get(routing, "type")
        if mode not in GUARDED_TRAFFIC_MODES:
            yield f"blue/green traffic routing is {mode}, not CANARY or LINEAR"
        if (number(get(routing, "waitIntervalInSeconds")) or 0) <= 0:
            yield "blue/green traffic shift without a baking period (wait_interval_in_seconds)"


@resource_rule(
    name="sagemaker-endpoint-auto-rollback",
    ids=("REF-22", "REF-23"),
    summary="Endpoint updates roll back automatically when a CloudWatch alarm fires",
    fix="Set deployment_config.auto_rollback_configuration={'alarms': [{'alarm_name': error_alarm.name}, ...]}",
    types=(ENDPOINT,),
    levels=ADVISORY_IN_DEV,
)
def endpoint_auto_rollback(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    alarms = get(_deployment(args.props), "autoRollbackConfiguration", "alarms")
    if not is_list(alarms) or not any(is_set(alarms, i, "alarmName") for i in range(len(alarms))):
        yield "no auto-rollback alarms"


def _steps(size: Any) -> int:
    """Traffic-shift steps of a canary/linear/batch size; capacity percentages give the exact count."""
    value = number(get(size, "value"))
    if get(size, "type") == "CAPACITY_PERCENT" and value:
        return max(1, math.ceil(100 / value))
    return 2  # an instance count: at least two steps, the exact number depends on the fleet


def _bake_seconds(config: Any) -> tuple[float, float | None, str]:
    """(seconds the update waits in total, the policy's maximum execution timeout, the policy's name)."""
    rolling = get(config, "rollingUpdatePolicy")
    if rolling is not None:
        wait = number(get(rolling, "waitIntervalInSeconds")) or 0
        total = wait * _steps(get(rolling, "maximumBatchSize"))
        return total, number(get(rolling, "maximumExecutionTimeoutInSeconds")), "rolling update"
    policy = get(config, "blueGreenUpdatePolicy")
    routing = get(policy, "trafficRoutingConfiguration")
    wait = number(get(routing, "waitIntervalInSeconds")) or 0
    steps = _steps(get(routing, "linearStepSize")) if get(routing, "type") == "LINEAR" else 1
    total = wait * steps + (number(get(policy, "terminationWaitInSeconds")) or 0)
    return total, number(get(policy, "maximumExecutionTimeoutInSeconds")), "blue/green update"


@resource_rule(
    name="sagemaker-endpoint-deployment-fits-timeouts",
    ids=("REF-5", "TF #39040"),
    summary="An endpoint update's baking fits in its maximum execution timeout and in the provider's 60-minute "
    "wait (minus 10 minutes of provisioning)",
    fix="Lower wait_interval_in_seconds / termination_wait_in_seconds, use bigger steps, or raise "
    "maximum_execution_timeout_in_seconds above the total wait",
    types=(ENDPOINT,),
)
def endpoint_deployment_fits_timeouts(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    config = _deployment(args.props)
    if config is None:
        return
    total, maximum, what = _bake_seconds(config)
    budget = PROVIDER_WAIT_SECONDS - PROVISIONING_HEADROOM_SECONDS
    if total > budget:
        yield f"{what} waits {int(total)}s, more than the {budget}s the provider leaves for baking"
    if maximum is not None and maximum < total:
        yield f"{what} waits {int(total)}s but maximum_execution_timeout_in_seconds is {int(maximum)}"


def _rollback_alarm_names(endpoint: PolicyResource) -> tuple[list[str], int]:
    """(literal alarm names, how many names are not known yet) of an endpoint's auto-rollback alarms."""
    names, unknown = [], 0
    for alarm in as_list(get(_deployment(endpoint.props), "autoRollbackConfiguration", "alarms")):
        try:
            name = get(alarm, "alarmName")
        except UnknownValueError:
            unknown += 1  # the alarm's name output, known at `pulumi up`; the property dependency joins it now
            continue
        if isinstance(name, str) and name:
            names.append(name)
    return names, unknown


def _known_name(resource: PolicyResource) -> Any:
    try:
        return prop(resource, "name")
    except UnknownValueError:
        return None


def _watches_endpoint(alarm: PolicyResource, endpoint_name: Any) -> bool:
    metrics = [alarm.props] + [get(q, "metric") for q in as_list(prop(alarm, "metricQueries"))]
    for metric in metrics:
        if get(metric, "namespace") != "AWS/SageMaker":
            continue
        try:
            dimension = get(metric, "dimensions", "EndpointName")
        except UnknownValueError:
            return True  # the endpoint's name output: known, and checked again, at `pulumi up`
        if dimension and (not isinstance(endpoint_name, str) or dimension == endpoint_name):
            return True
    return False


@stack_rule(
    name="sagemaker-rollback-alarms-watch-endpoint",
    ids=("CKV_AWS_319", "CT.CLOUDWATCH.PR.1", "CT.CLOUDWATCH.PR.4", "REF-23"),
    summary="Every auto-rollback alarm of an endpoint is declared in the stack, has actions enabled and watches "
    "that endpoint's AWS/SageMaker metrics",
    fix="Create aws.cloudwatch.MetricAlarm(namespace='AWS/SageMaker', metric_name='Invocation5XXErrors', "
    "dimensions={'EndpointName': ..., 'VariantName': ...}, actions_enabled=True) and list its name",
    levels=ADVISORY_IN_DEV,
)
def rollback_alarms_watch_endpoint(args: StackValidationArgs, _env: str) -> Iterator[tuple[PolicyResource, str]]:
    alarms = of_types(args.resources, ALARMS)
    for endpoint in of_types(args.resources, (ENDPOINT,)):
        names, unknown = _rollback_alarm_names(endpoint)
        if not names and not unknown:
            continue
        linked_urns = {d.urn for d in endpoint.property_dependencies.get("deploymentConfig") or []}
        linked = [a for a in alarms if a.urn in linked_urns or names_of(a, ("name",)) & set(names)]
        if len(linked) < len(names) + unknown:
            missing = ", ".join(names) or f"{unknown} alarm(s) named by outputs"
            yield endpoint, f"endpoint {endpoint.name} rolls back on alarms not declared in this stack: {missing}"
        for alarm in linked:
            if is_false(prop(alarm, "actionsEnabled")):
                yield endpoint, f"rollback alarm {alarm.name} has actions disabled"
            if not _watches_endpoint(alarm, _known_name(endpoint)):
                yield endpoint, (
                    f"rollback alarm {alarm.name} does not watch endpoint {endpoint.name} (AWS/SageMaker, EndpointName)"
                )


def _read_only(action: str) -> bool:
    return any(fnmatch.fnmatchcase(action, allowed) for allowed in REGISTRY_READ_ACTIONS)


@resource_rule(
    name="sagemaker-registry-policy-read-only",
    ids=("REF-27",),
    summary="A model registry's resource policy lets named principals read packages and build models from "
    "them, nothing else",
    fix="Grant only sagemaker:Describe*/List* and sagemaker:CreateModel to the promotion roles of staging/prod",
    types=(REGISTRY_POLICY,),
)
def registry_policy_read_only(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for st in allow_statements(get(args.props, "resourcePolicy")):
        if st.public_principal and not st.conditions:
            yield f"{st.label} lets any principal use the registry"
        writes = [a for a in st.actions if not _read_only(a)]
        if writes or st.not_actions:
            yield f"{st.label} allows {', '.join(writes) or 'NotAction'} beyond reading the registry"
