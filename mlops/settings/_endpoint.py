"""Per-model real-time endpoint settings: capacity, safe deployments, autoscaling and rollback alarms."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from ._base import SettingsModel
from ._core import Environment

if TYPE_CHECKING:
    from ._model import ModelSettings

# Pulumi auto-names the endpoint's SageMaker model and endpoint configuration "<endpoint name>-<role>-<7 hex>";
# the longest role is "config", and SageMaker names stop at 63 characters.
_LONGEST_CHILD_SUFFIX = len("-config") + 8
_SAGEMAKER_NAME_LIMIT = 63
# The provider waits up to 60 minutes for an endpoint update; new instances take 10-15 of them to start, so
# the baking periods must fit in the rest or `pulumi up` fails while SageMaker is still deploying.
MAX_BAKING_SECONDS = 2700
DEFAULT_CAPTURE_PERCENT = 20
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)


class EndpointMode(enum.StrEnum):
    """Where the model runs."""

    SERVERLESS = "serverless"
    """SageMaker Serverless Inference: billed per request, scales to zero. No VPC, no data capture (SageMaker)."""
    INSTANCE = "instance"
    """Dedicated instances: VPC, data capture, blue/green deployments with rollback, autoscaling."""


class DeploymentStrategy(enum.StrEnum):
    """How an update shifts traffic from the old fleet (blue) to the new one (green)."""

    CANARY = "canary"
    """A small share first, then the rest after a baking period."""
    LINEAR = "linear"
    """Equal steps, with a baking period after each."""
    ALL_AT_ONCE = "all_at_once"
    """Everything at once (dev only), then the termination wait."""


class DeploymentSettings(SettingsModel):
    """Blue/green deployment of an instance-backed endpoint, rolled back when a rollback alarm fires."""

    strategy: DeploymentStrategy = Field(DeploymentStrategy.CANARY, description="canary, linear or all_at_once.")
    canary_percent: int = Field(10, description="Share of capacity the canary gets first (1-50 percent).")
    linear_step_percent: int = Field(
        20, ge=10, le=50, description="Share of capacity shifted per linear step (10-50 percent)."
    )
    wait_seconds: int = Field(
        300, ge=0, le=3600, description="Baking period after each shift, while the rollback alarms are watched."
    )
    termination_wait_seconds: int = Field(
        300, ge=0, le=3600, description="Final bake with all traffic on the new fleet before the old one is removed."
    )
    timeout_seconds: int = Field(
        3600, ge=600, le=14400, description="Limit of the whole deployment; SageMaker rolls back when it passes."
    )

    @field_validator("canary_percent")
    @classmethod
    def _canary_size(cls, value: int) -> int:
        if not 1 <= value <= 50:
            raise PydanticCustomError(
                "canary_size", "canary size must be 1-50 percent of the variant's capacity (SageMaker's limit)"
            )
        return value

    @property
    def baking_seconds(self) -> int:
        """Upper bound of the time the deployment spends baking: every wait plus the termination wait."""
        shifts = {
            DeploymentStrategy.CANARY: 1,
            DeploymentStrategy.LINEAR: math.ceil(100 / self.linear_step_percent),
            DeploymentStrategy.ALL_AT_ONCE: 0,
        }[self.strategy]
        return shifts * self.wait_seconds + self.termination_wait_seconds


class AutoscalingSettings(SettingsModel):
    """Target tracking on invocations per instance, between minInstances and maxInstances."""

    target_invocations_per_instance: int = Field(
        100, ge=1, le=100_000, description="Invocations per instance per minute the policy keeps the variant at."
    )
    scale_in_cooldown_seconds: int = Field(
        300, ge=0, le=3600, description="Wait after a scale-in before the next one (slow in, to ride out dips)."
    )
    scale_out_cooldown_seconds: int = Field(
        60, ge=0, le=3600, description="Wait after a scale-out before the next one (fast out, to meet bursts)."
    )


class EndpointAlarmSettings(SettingsModel):
    """The endpoint's alarms; blue/green deployments roll back when one of them fires."""

    errors_per_minute: int = Field(
        5, ge=1, le=100_000, description="Invocation5XXErrors per minute at which the error alarm fires."
    )
    latency_p99_ms: int = Field(
        1000, ge=1, le=60_000, description="p99 ModelLatency (milliseconds) at which the latency alarm fires."
    )
    evaluation_minutes: int = Field(
        2, ge=1, le=60, description="Consecutive breaching minutes before an alarm fires."
    )


class EndpointSettings(SettingsModel):
    """How a model is served on a SageMaker real-time endpoint. Omitted fields take the defaults below.

    The default is the cheap one (serverless); staging and prod must say `mode: instance` and their capacity.
    """

    mode: EndpointMode = Field(EndpointMode.SERVERLESS, description="serverless or instance.")
    instance_type: str = Field(
        "ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", description="Instance type (instance mode)."
    )
    min_instances: int = Field(
        1, ge=1, le=100, description="Instances at deployment and autoscaling's floor (instance mode)."
    )
    max_instances: int = Field(2, ge=1, le=100, description="Autoscaling's ceiling (instance mode).")
    memory_mb: int = Field(
        2048, ge=1024, le=6144, multiple_of=1024, description="Serverless memory: 1024-6144 MB in 1024 MB steps."
    )
    max_concurrency: int = Field(5, ge=1, le=200, description="Serverless concurrent invocations (1-200).")
    data_capture_percent: int | None = Field(
        None,
        ge=0,
        le=100,
        description=(
            f"Share of requests and responses captured to the capture bucket; default {DEFAULT_CAPTURE_PERCENT} on "
            "instance endpoints. Serverless endpoints cannot capture (SageMaker), so it must stay unset there."
        ),
    )
    log_retention_days: int = Field(365, description="Days the endpoint's CloudWatch logs are kept.")
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)
    autoscaling: AutoscalingSettings = Field(default_factory=AutoscalingSettings)
    alarms: EndpointAlarmSettings = Field(default_factory=EndpointAlarmSettings)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise PydanticCustomError(
                "log_retention", "CloudWatch Logs accepts only {allowed} days", {"allowed": LOG_RETENTION_DAYS}
            )
        return value

    @property
    def capture_percent(self) -> int:
        """The effective sampling percentage (0 = no capture)."""
        if self.data_capture_percent is not None:
            return self.data_capture_percent
        return DEFAULT_CAPTURE_PERCENT if self.mode is EndpointMode.INSTANCE else 0


# Settings that mean something only in one mode: stating them in the other is a mistake worth reporting.
_INSTANCE_ONLY = ("instance_type", "min_instances", "max_instances", "deployment", "autoscaling")
_SERVERLESS_ONLY = ("memory_mb", "max_concurrency")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _mixing_problems(key: str, endpoint: EndpointSettings) -> list[str]:
    given = endpoint.model_fields_set
    if endpoint.mode is EndpointMode.SERVERLESS:
        stray, other = [f for f in _INSTANCE_ONLY if f in given], "instance"
    else:
        stray, other = [f for f in _SERVERLESS_ONLY if f in given], "serverless"
    return [
        f"{key}.{_camel(f)}: applies to {other} endpoints only, but mode is {endpoint.mode.value}; remove it "
        "or change mode"
        for f in stray
    ]


def _deployment_problems(key: str, deployment: DeploymentSettings) -> list[str]:
    problems: list[str] = []
    given = deployment.model_fields_set
    if deployment.strategy is not DeploymentStrategy.CANARY and "canary_percent" in given:
        problems.append(f"{key}.canaryPercent: applies to the canary strategy, not {deployment.strategy.value}")
    if deployment.strategy is not DeploymentStrategy.LINEAR and "linear_step_percent" in given:
        problems.append(f"{key}.linearStepPercent: applies to the linear strategy, not {deployment.strategy.value}")
    baking = deployment.baking_seconds
    if baking > MAX_BAKING_SECONDS:
        problems.append(
            f"{key}: the baking periods add up to {baking} s (waitSeconds per shift + terminationWaitSeconds); "
            f"keep them under {MAX_BAKING_SECONDS} s or `pulumi up` times out while SageMaker is still deploying"
        )
    elif baking >= deployment.timeout_seconds:
        problems.append(
            f"{key}.timeoutSeconds: {deployment.timeout_seconds} s leaves no time to deploy after {baking} s of "
            "baking; raise it above the baking time plus about 15 minutes for new instances"
        )
    return problems


def _environment_problems(key: str, endpoint: EndpointSettings, environment: Environment) -> list[str]:
    if not environment.is_production_like:
        return []
    env = environment.value
    if endpoint.mode is EndpointMode.SERVERLESS:
        return [
            f"{key}.mode: {env} serves from instances (mode: instance): serverless endpoints cannot run in the VPC, "
            "capture data, or deploy blue/green with rollback alarms on a fleet"
        ]
    problems: list[str] = []
    if endpoint.deployment.strategy is DeploymentStrategy.ALL_AT_ONCE:
        problems.append(f"{key}.deployment.strategy: {env} shifts traffic gradually; use canary or linear")
    if endpoint.capture_percent == 0:
        problems.append(f"{key}.dataCapturePercent: {env} must capture requests for monitoring; set 1-100")
    if environment is Environment.PROD and endpoint.min_instances < 2:
        problems.append(
            f"{key}.minInstances: prod needs at least two instances across two availability zones so the endpoint "
            f"survives an instance or zone failure (SageMaker.4); got {endpoint.min_instances}"
        )
    return problems


def model_endpoint_problems(
    index: int, model: ModelSettings, resource_name: str, environment: Environment, region: str,
    has_image_digest: bool,
) -> list[str]:
    """Cross-field rules of `mlops:models[index].endpoint` (and what serving needs from the model); each
    problem names its config key."""
    key = f"mlops:models[{index}].endpoint"
    endpoint = model.endpoint
    problems = _mixing_problems(key, endpoint)
    if endpoint.mode is EndpointMode.INSTANCE and endpoint.min_instances > endpoint.max_instances:
        problems.append(
            f"{key}.minInstances: {endpoint.min_instances} is more than maxInstances {endpoint.max_instances}; "
            "min must be <= max"
        )
    if endpoint.mode is EndpointMode.SERVERLESS and endpoint.capture_percent > 0:
        problems.append(
            f"{key}.dataCapturePercent: serverless endpoints cannot capture data (SageMaker); remove it or use "
            "mode: instance"
        )
    if endpoint.mode is EndpointMode.INSTANCE:
        problems += _deployment_problems(f"{key}.deployment", endpoint.deployment)
    problems += _environment_problems(key, endpoint, environment)
    longest = len(resource_name) + _LONGEST_CHILD_SUFFIX
    # Names over the limit themselves are reported by the stack's own name rule; this is the stricter one.
    if len(resource_name) <= _SAGEMAKER_NAME_LIMIT < longest:
        problems.append(
            f"mlops:models[{index}].name: the endpoint's auto-named SageMaker resources would be {longest} characters "
            f"('{resource_name}-config-xxxxxxx'; SageMaker allows {_SAGEMAKER_NAME_LIMIT}); shorten the model name "
            f"by {longest - _SAGEMAKER_NAME_LIMIT}"
        )
    if model.model_package_arn is None and not has_image_digest:
        problems.append(
            f"mlops:image.digest: model '{model.name}' has no modelPackageArn, so it is served from the stack's image, "
            "which is pinned by digest; set the sha256 digest CI pushed"
        )
    if model.model_package_arn is not None:
        problems += _registry_problems(f"mlops:models[{index}].modelPackageArn", model, region)
    return problems


def _registry_problems(key: str, model: ModelSettings, region: str) -> list[str]:
    registry = registry_of(model.model_package_arn or "", model.name)
    if registry is None:
        return [f"{key}: the model package group must be named '<project>-<stack>-{model.name}' (the name the "
                "registering stack gives this model's group), so the stack can tell whose artifacts to read"]
    if registry.region != region:
        return [f"{key}: the version is registered in {registry.region}, but SageMaker serves model packages only "
                f"in their own region ({region}); register or copy it there"]
    return []


@dataclass(frozen=True)
class RegistryStack:
    """Where a pinned model version was registered: account, region and `<project>-<stack>` of that stack."""

    account_id: str
    region: str
    name_prefix: str


def registry_of(model_package_arn: str, model_name: str) -> RegistryStack | None:
    """The stack that registered a model package (its group is `<project>-<stack>-<model>`), or None when the
    group name does not follow that rule."""
    head, _, path = model_package_arn.partition(":model-package/")
    parts = head.split(":")
    group = path.rsplit("/", 1)[0]
    suffix = f"-{model_name}"
    if len(parts) != 5 or not group.endswith(suffix) or len(group) == len(suffix):
        return None
    return RegistryStack(account_id=parts[4], region=parts[3], name_prefix=group.removesuffix(suffix))
