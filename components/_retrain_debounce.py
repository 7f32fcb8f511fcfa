"""Lambda handler: debounce retraining requests into one SageMaker pipeline execution per quiet period.

Deployed as-is (standard library and the boto3 of the Lambda runtime only). Every request (a new raw
object from S3 via EventBridge, a drift alarm, a manual event) moves one one-time EventBridge Scheduler
schedule to `now + debounce`, but never past `first request + max delay`; when the uploads stop (or the cap
is reached) the schedule fires once and starts the pipeline, then deletes itself. So a burst of N uploads
starts one execution, `debounce` after the last of them, and a steady stream still trains every `max delay`.

The schedule's description carries the state (first request time and the reasons seen), so the function
keeps none; reserved concurrency 1 serialises invocations, and a create race falls back to an update.

Environment: SCHEDULE_GROUP, SCHEDULE_NAME, PIPELINE_ARN, STARTER_ROLE_ARN, DEAD_LETTER_QUEUE_ARN,
DEBOUNCE_MINUTES, MAX_DELAY_MINUTES.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TRIGGER_PARAMETER = "TriggeredBy"
_FIRST = "first-request="
_REASONS = "reasons="
# The schedule must lie in the future when it is written; a minute covers clock skew and API latency.
_MIN_LEAD = dt.timedelta(minutes=1)
# Reasons by event source; anything else is named after its source.
_SOURCES = {"aws.s3": "new-data", "aws.cloudwatch": "drift", "aws.scheduler": "schedule"}


@dataclass(frozen=True)
class DebounceConfig:
    """Where the pending schedule lives, what it starts and the timing rules."""

    schedule_group: str
    schedule_name: str
    pipeline_arn: str
    starter_role_arn: str
    dead_letter_queue_arn: str
    debounce: dt.timedelta
    max_delay: dt.timedelta

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> DebounceConfig:
        """Read the configuration the stack sets on the function."""
        return cls(
            schedule_group=env["SCHEDULE_GROUP"],
            schedule_name=env["SCHEDULE_NAME"],
            pipeline_arn=env["PIPELINE_ARN"],
            starter_role_arn=env["STARTER_ROLE_ARN"],
            dead_letter_queue_arn=env["DEAD_LETTER_QUEUE_ARN"],
            debounce=dt.timedelta(minutes=int(env["DEBOUNCE_MINUTES"])),
            max_delay=dt.timedelta(minutes=int(env["MAX_DELAY_MINUTES"])),
        )


def reason_of(event: Mapping[str, Any]) -> str:
    """Why retraining was asked for, in one word: new-data, drift, schedule, or the event's source."""
    source = str(event.get("source") or "manual")
    return _SOURCES.get(source, source.replace(" ", "-")[:40])


def _description(first: dt.datetime, reasons: set[str]) -> str:
    return f"{_FIRST}{first.isoformat()}; {_REASONS}{','.join(sorted(reasons))}"


def _parse_description(text: str) -> tuple[dt.datetime, set[str]] | None:
    parts = dict(p.strip().split("=", 1) for p in text.split(";") if "=" in p)
    try:
        first = dt.datetime.fromisoformat(parts[_FIRST[:-1]])
    except (KeyError, ValueError):
        return None
    reasons = {r for r in parts.get(_REASONS[:-1], "").split(",") if r}
    return first, reasons


def _fire_time(expression: str) -> dt.datetime | None:
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    try:
        return dt.datetime.fromisoformat(expression[3:-1]).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _pending(schedule: Mapping[str, Any] | None, now: dt.datetime) -> tuple[dt.datetime, set[str]] | None:
    """The first request time and reasons of a schedule that has not fired yet, else None."""
    if not schedule or schedule.get("State") != "ENABLED":
        return None
    fires = _fire_time(str(schedule.get("ScheduleExpression", "")))
    if fires is None or fires <= now:
        return None  # fired (or firing): the next request starts a new batch
    return _parse_description(str(schedule.get("Description", "")))


def schedule_request(
    config: DebounceConfig, now: dt.datetime, first: dt.datetime, reasons: set[str]
) -> dict[str, Any]:
    """The Create/UpdateSchedule request for a batch first requested at `first`, as of `now`."""
    fires = max(min(now + config.debounce, first + config.max_delay), now + _MIN_LEAD)
    return {
        "Name": config.schedule_name,
        "GroupName": config.schedule_group,
        "ScheduleExpression": f"at({fires.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "State": "ENABLED",
        "Description": _description(first, reasons),
        "Target": {
            "Arn": config.pipeline_arn,
            "RoleArn": config.starter_role_arn,
            "SageMakerPipelineParameters": {
                "PipelineParameterList": [{"Name": TRIGGER_PARAMETER, "Value": "+".join(sorted(reasons))}]
            },
            "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
            "DeadLetterConfig": {"Arn": config.dead_letter_queue_arn},
        },
    }


def debounce(event: Mapping[str, Any], now: dt.datetime, scheduler: Any, config: DebounceConfig) -> dict[str, Any]:
    """Record one retraining request: create the pending schedule, or push the pending one back."""
    try:
        current = scheduler.get_schedule(Name=config.schedule_name, GroupName=config.schedule_group)
    except scheduler.exceptions.ResourceNotFoundException:
        current = None
    pending = _pending(current, now)
    first, reasons = pending if pending else (now, set())
    request = schedule_request(config, now, first, reasons | {reason_of(event)})
    if current is None:
        try:
            scheduler.create_schedule(**request)
        except scheduler.exceptions.ConflictException:  # created meanwhile by another invocation
            scheduler.update_schedule(**request)
    else:
        scheduler.update_schedule(**request)
    return {
        "schedule": f"{config.schedule_group}/{config.schedule_name}",
        "expression": request["ScheduleExpression"],
        "firstRequest": first.isoformat(),
        "triggeredBy": request["Target"]["SageMakerPipelineParameters"]["PipelineParameterList"][0]["Value"],
    }


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point."""
    import boto3

    result = debounce(
        event, dt.datetime.now(dt.UTC), boto3.client("scheduler"), DebounceConfig.from_environment(os.environ)
    )
    print(json.dumps({"event": event.get("detail-type"), **result}))  # one structured log line per request
    return result
