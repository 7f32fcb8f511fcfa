"""Per-model training pipeline settings (the SageMaker pipeline, the registry and retraining)."""

from __future__ import annotations

import enum
import functools
import re
import zoneinfo
from typing import Annotated

from pydantic import Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from ._base import SettingsModel
from ._core import Environment

# SageMaker keeps hyperparameter keys to 256 characters and values to 2500 (CreateTrainingJob).
_HYPERPARAMETER_KEY = r"^[a-z][a-z0-9_-]{0,255}$"
_HYPERPARAMETER_VALUE_LIMIT = 2500


class ApprovalPolicy(enum.StrEnum):
    """What status a model version gets when the pipeline registers it."""

    AUTO = "auto"
    """Registered as Approved: dev may deploy what it trains without a human."""
    MANUAL = "manual"
    """Registered as PendingManualApproval: a person approves it (`mlops approve`)."""


@functools.cache
def sagemaker_instance_types(kind: str) -> tuple[str, ...]:
    """The instance types SageMaker accepts for `kind` ("Training" or "Processing"), from the SageMaker API
    model botocore ships: the authoritative list, current with the installed botocore, read offline."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return tuple(model.shape_for(f"{kind}InstanceType").enum)


def _check_instance_type(value: str, kind: str) -> str:
    known = sagemaker_instance_types(kind)
    if value in known:
        return value
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != "ml":
        raise PydanticCustomError(
            "instance_type", "not an instance type; write it as ml.<family>.<size>, e.g. ml.m5.xlarge"
        )
    sizes = sorted(t.split(".")[2] for t in known if t.split(".")[1] == parts[1])
    if not sizes:
        families = ", ".join(sorted({t.split(".")[1] for t in known}))
        raise PydanticCustomError(
            "instance_type", "unknown instance type family '{family}' for {kind} jobs; known families: {families}",
            {"family": parts[1], "kind": kind.lower(), "families": families},
        )
    raise PydanticCustomError(
        "instance_type", "{kind} jobs have no '{size}' size of {family}; sizes: {sizes}",
        {"kind": kind, "size": parts[2], "family": parts[1], "sizes": ", ".join(sizes)},
    )


# --- EventBridge Scheduler expressions ------------------------------------------------------------------------
# cron(minutes hours day-of-month month day-of-week year); names as AWS documents them.
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_CRON_FIELDS = (  # name, low, high, names, extra tokens
    ("minutes", 0, 59, [], ""),
    ("hours", 0, 23, [], ""),
    ("day-of-month", 1, 31, [], "?LW"),
    ("month", 1, 12, _MONTHS, ""),
    ("day-of-week", 1, 7, _DAYS, "?L#"),
    ("year", 1970, 2199, [], ""),
)
_RATE = re.compile(r"^rate\((?P<n>[1-9]\d*) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
# Retraining more often than hourly is a storm of executions, not a schedule.
_MIN_SCHEDULE_MINUTES = 60


def _cron_value(text: str, low: int, high: int, names: list[str]) -> int:
    if text.upper() in names:
        return names.index(text.upper()) + low
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"'{text}' is outside {low}-{high}" + (f" (or {names[0]}-{names[-1]})" if names else ""))
    return int(text)


def _check_cron_field(field: str, name: str, low: int, high: int, names: list[str], extra: str) -> None:
    for token in field.split(","):
        if token == "*" or (token in ("?", "L") and token in extra):
            continue
        base, _, step = token.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"the {name} field's step '/{step}' must be a positive number")
        if "#" in base and "#" in extra:
            day, _, nth = base.partition("#")
            _cron_value(day, low, high, names)
            if nth not in ("1", "2", "3", "4", "5"):
                raise ValueError(f"the {name} field's '#{nth}' must be #1-#5")
            continue
        if base.endswith(("L", "W")) and base[-1] in extra and base[:-1]:
            base = base[:-1]
        start, _, end = base.partition("-")
        if start == "*" and not end:
            continue
        try:
            first = _cron_value(start, low, high, names)
            if end and _cron_value(end, low, high, names) < first:
                raise ValueError(f"the range '{base}' runs backwards")
        except ValueError as exc:
            raise ValueError(f"the {name} field: {exc}") from None


def schedule_problem(expression: str) -> str | None:
    """Why `expression` is not a retraining schedule EventBridge Scheduler accepts, or None if it is."""
    rate = _RATE.match(expression)
    if rate:
        n, unit = int(rate["n"]), rate["unit"].removesuffix("s")
        wanted = unit if n == 1 else f"{unit}s"
        if rate["unit"] != wanted:
            return f"write rate({n} {wanted}): AWS wants the singular unit for 1 and the plural otherwise"
        minutes = n * {"minute": 1, "hour": 60, "day": 1440}[unit]
        if minutes < _MIN_SCHEDULE_MINUTES:
            return f"retraining every {minutes} minute(s) starts a storm of executions; schedule at most hourly"
        return None
    if not (expression.startswith("cron(") and expression.endswith(")")):
        return "use cron(minutes hours day-of-month month day-of-week year) or rate(N hours|days)"
    fields = expression[5:-1].split()
    if len(fields) != 6:
        return f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}"
    try:
        for field, (name, low, high, names, extra) in zip(fields, _CRON_FIELDS, strict=True):
            _check_cron_field(field, name, low, high, names, extra)
    except ValueError as exc:
        return str(exc)
    if (fields[2] == "?") == (fields[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be '?' (EventBridge Scheduler's rule)"
    if not fields[0].isdigit():
        return f"the minutes field '{fields[0]}' fires more than once an hour; name one minute, e.g. 0"
    return None


class TrainingSettings(SettingsModel):
    """How a model is trained, judged, registered and retrained. Omitted fields take the defaults below."""

    instance_type: str = Field("ml.m5.xlarge", description="Training instance type (a SageMaker training type).")
    instance_count: int = Field(1, ge=1, le=20, description="Training instance count.")
    processing_instance_type: str = Field(
        "ml.m5.large", description="Instance type of the preprocessing and evaluation jobs (one instance each)."
    )
    volume_size_gb: int = Field(30, ge=1, le=16384, description="EBS volume of every job, in GB (KMS-encrypted).")
    hyperparameters: dict[
        Annotated[str, Field(pattern=_HYPERPARAMETER_KEY)], StrictBool | int | float | str
    ] = Field(
        default_factory=dict,
        max_length=100,
        description="Flags of the training entry point (train.py --<key> <value>); merged over its defaults.",
    )
    evaluation_threshold: float = Field(
        0.85, description="Minimum ROC-AUC on the test split for a model version to be registered (0..1)."
    )
    approval: ApprovalPolicy = Field(
        ApprovalPolicy.MANUAL, description="Approval status of registered versions (staging and prod: manual)."
    )
    max_runtime_minutes: int = Field(
        60, ge=1, le=40320, description="Time limit of each job (training, preprocessing, evaluation)."
    )
    spot: bool = Field(
        False, description="Managed spot training, checkpointed to the artifacts bucket; cheaper, may wait."
    )
    max_wait_minutes: int | None = Field(
        None, ge=1, le=40320,
        description="Spot only: total time a training job may take including waiting for capacity "
        "(default twice maxRuntimeMinutes).",
    )
    network_isolation: bool = Field(
        True, description="Run the jobs' containers without network access (data and code come as inputs)."
    )
    inter_container_encryption: bool = Field(
        True, description="Encrypt traffic between the instances of multi-instance jobs (slower distributed jobs)."
    )
    schedule: str | None = Field(
        None, description="Retrain on this EventBridge Scheduler expression too, e.g. cron(0 3 ? * MON *)."
    )
    schedule_timezone: str = Field("UTC", description="IANA time zone the schedule is read in.")
    retrain_on_new_data: bool = Field(
        True, description="Retrain when new objects land under the model's raw-data prefix (debounced)."
    )
    debounce_minutes: int = Field(
        15, ge=1, le=1440,
        description="Quiet period after the last new object (or drift alarm) before one retraining starts.",
    )
    max_delay_minutes: int = Field(
        240, ge=1, le=10080,
        description="Longest a retraining waits behind a steady stream of uploads, from the first of them.",
    )

    @field_validator("instance_type")
    @classmethod
    def _training_type(cls, value: str) -> str:
        return _check_instance_type(value, "Training")

    @field_validator("processing_instance_type")
    @classmethod
    def _processing_type(cls, value: str) -> str:
        return _check_instance_type(value, "Processing")

    @field_validator("evaluation_threshold")
    @classmethod
    def _threshold(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise PydanticCustomError(
                "threshold", "the ROC-AUC threshold must be between 0 and 1, e.g. 0.85"
            )
        return value

    @field_validator("hyperparameters")
    @classmethod
    def _hyperparameter_values(cls, value: dict[str, bool | int | float | str]) -> dict[str, bool | int | float | str]:
        for key, item in value.items():
            if isinstance(item, str) and len(item) > _HYPERPARAMETER_VALUE_LIMIT:
                raise PydanticCustomError(
                    "hyperparameter", "the value of '{key}' is longer than SageMaker's {limit} characters",
                    {"key": key, "limit": _HYPERPARAMETER_VALUE_LIMIT},
                )
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        problem = None if value is None else schedule_problem(value)
        if problem:
            raise PydanticCustomError("schedule", "not a valid schedule: {problem}", {"problem": problem})
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone", "unknown time zone; use an IANA name such as UTC or Europe/Berlin"
            ) from None
        return value

    @property
    def spot_max_wait_minutes(self) -> int | None:
        """The spot wait limit in force: the setting, or twice the run time; None without spot."""
        if not self.spot:
            return None
        return self.max_wait_minutes or 2 * self.max_runtime_minutes

    @property
    def hyperparameter_strings(self) -> dict[str, str]:
        """Hyperparameters as SageMaker passes them: strings, booleans spelt true/false."""
        return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in self.hyperparameters.items()}


class RegistrySettings(SettingsModel):
    """Who may read this stack's registries (its model package groups and image repository): the accounts of
    the stacks that deploy what this one trains and builds, usually staging and prod reading dev's."""

    consumer_account_ids: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = Field(
        default_factory=list,
        max_length=20,
        description="Accounts allowed to describe/list model versions and pull the image. Empty: nobody else.",
    )


# The longest auto-named children of a pipeline: its IAM roles "<resource name>-starter-<7 hex>" (and
# "-retrain-"); IAM role and EventBridge rule names stop at 64 characters.
_LONGEST_TRAINING_CHILD = len("-starter") + 8
_IAM_NAME_LIMIT = 64


def training_problems(
    index: int, training: TrainingSettings, environment: Environment, resource_name: str
) -> list[str]:
    """Cross-field rules of `mlops:models[index].training`; each problem names its config key."""
    key = f"mlops:models[{index}].training"
    problems: list[str] = []
    longest = len(resource_name) + _LONGEST_TRAINING_CHILD
    if longest > _IAM_NAME_LIMIT:
        problems.append(
            f"mlops:models[{index}].name: the training pipeline's IAM roles would be named '{resource_name}-starter-"
            f"xxxxxxx' ({longest} characters; IAM allows {_IAM_NAME_LIMIT}); shorten the model name by "
            f"{longest - _IAM_NAME_LIMIT}"
        )
    env = environment.value
    if environment.is_production_like and training.approval is ApprovalPolicy.AUTO:
        problems.append(
            f"{key}.approval: {env} registers model versions for a person to approve; set it to manual"
        )
    if environment is Environment.PROD:
        for field, camel in (("network_isolation", "networkIsolation"),
                             ("inter_container_encryption", "interContainerEncryption")):
            if not getattr(training, field):
                problems.append(f"{key}.{camel}: prod trains with it on; set it to true")
    if training.max_wait_minutes is not None:
        if not training.spot:
            problems.append(f"{key}.maxWaitMinutes: applies to spot training only; remove it or set spot: true")
        elif training.max_wait_minutes < training.max_runtime_minutes:
            problems.append(
                f"{key}.maxWaitMinutes: {training.max_wait_minutes} is less than maxRuntimeMinutes "
                f"{training.max_runtime_minutes}; SageMaker needs the wait limit to cover the run"
            )
    if training.max_delay_minutes < training.debounce_minutes:
        problems.append(
            f"{key}.maxDelayMinutes: {training.max_delay_minutes} is less than debounceMinutes "
            f"{training.debounce_minutes}; the cap must be at least the quiet period"
        )
    if "schedule_timezone" in training.model_fields_set and training.schedule is None:
        problems.append(f"{key}.scheduleTimezone: applies to a schedule; set schedule or remove it")
    return problems


def registry_problems(registry: RegistrySettings, account_id: str) -> list[str]:
    """Rules of `mlops:registry` that need the stack's own account."""
    key = "mlops:registry.consumerAccountIds"
    problems: list[str] = []
    if account_id in registry.consumer_account_ids:
        problems.append(f"{key}: {account_id} is this stack's own account; list only the other accounts")
    if len(set(registry.consumer_account_ids)) != len(registry.consumer_account_ids):
        problems.append(f"{key}: an account is listed twice")
    return problems
