"""The debounce function (components/_retrain_debounce.py) against EventBridge Scheduler on a moto server:
a burst of requests becomes one pending execution, pushed back by each request until a quiet period passes,
never past the cap; a fired schedule starts a new batch. Time is passed in, so nothing here waits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from components import _retrain_debounce as lam
from components._retrain_debounce import DebounceConfig, debounce, reason_of

from .conftest import REGION

GROUP = "mlops-dev-fraud-detector"
PIPELINE = f"arn:aws:sagemaker:{REGION}:111111111111:pipeline/mlops-dev-fraud-detector"
ENV = {
    "SCHEDULE_GROUP": GROUP,
    "SCHEDULE_NAME": "pending-retraining",
    "PIPELINE_ARN": PIPELINE,
    "STARTER_ROLE_ARN": "arn:aws:iam::111111111111:role/mlops-dev-fraud-detector-starter-1234567",
    "DEAD_LETTER_QUEUE_ARN": f"arn:aws:sqs:{REGION}:111111111111:mlops-dev-fraud-detector-dead-letters-1234567",
    "DEBOUNCE_MINUTES": "15",
    "MAX_DELAY_MINUTES": "60",
}
CONFIG = DebounceConfig.from_environment(ENV)
T0 = dt.datetime(2026, 11, 27, 9, 0, 30, 123456, tzinfo=dt.UTC)
S3_EVENT = {"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "raw"}, "object": {"key": "incoming/fraud-detector/a.csv"}}}
DRIFT_EVENT = {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
               "detail": {"alarmName": "mlops-dev-fraud-detector-drift-psi", "state": {"value": "ALARM"}}}


@pytest.fixture()
def scheduler(aws: str) -> Any:
    client = boto3.client("scheduler", region_name=REGION)  # reaches moto through AWS_ENDPOINT_URL
    client.create_schedule_group(Name=GROUP)
    return client


def _at(moment: dt.datetime) -> str:
    return f"at({moment:%Y-%m-%dT%H:%M:%S})"


def _pending(scheduler: Any) -> dict[str, Any]:
    (summary,) = scheduler.list_schedules(GroupName=GROUP)["Schedules"]
    return scheduler.get_schedule(Name=summary["Name"], GroupName=GROUP)


def test_the_first_request_schedules_one_execution_a_quiet_period_later(scheduler: Any) -> None:
    result = debounce(S3_EVENT, T0, scheduler, CONFIG)
    pending = _pending(scheduler)
    assert pending["Name"] == "pending-retraining"
    assert pending["ScheduleExpression"] == _at(T0 + dt.timedelta(minutes=15))
    assert pending["ScheduleExpressionTimezone"] == "UTC"
    assert pending["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert pending["ActionAfterCompletion"] == "DELETE"  # it fires once, then cleans itself up
    assert pending["State"] == "ENABLED"
    assert pending["Target"] == {
        "Arn": PIPELINE,
        "RoleArn": ENV["STARTER_ROLE_ARN"],
        "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "TriggeredBy", "Value": "new-data"}]},
        "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
        "DeadLetterConfig": {"Arn": ENV["DEAD_LETTER_QUEUE_ARN"]},
    }
    assert pending["Description"] == f"first-request={T0.isoformat()}; reasons=new-data"
    assert result == {"schedule": f"{GROUP}/pending-retraining", "expression": _at(T0 + dt.timedelta(minutes=15)),
                      "firstRequest": T0.isoformat(), "triggeredBy": "new-data"}


def test_each_further_request_pushes_the_same_execution_back(scheduler: Any) -> None:
    for minutes in (0, 4, 9, 13):
        debounce(S3_EVENT, T0 + dt.timedelta(minutes=minutes), scheduler, CONFIG)
    pending = _pending(scheduler)  # still exactly one
    assert pending["ScheduleExpression"] == _at(T0 + dt.timedelta(minutes=13 + 15))
    assert pending["Description"].startswith(f"first-request={T0.isoformat()};")


def test_a_steady_stream_still_trains_at_the_cap(scheduler: Any) -> None:
    for minutes in range(0, 55, 5):  # every 5 minutes, never 15 quiet ones
        debounce(S3_EVENT, T0 + dt.timedelta(minutes=minutes), scheduler, CONFIG)
    assert _pending(scheduler)["ScheduleExpression"] == _at(T0 + dt.timedelta(minutes=60))


def test_the_cap_never_schedules_into_the_past(scheduler: Any) -> None:
    for minutes in range(0, 55, 5):
        debounce(S3_EVENT, T0 + dt.timedelta(minutes=minutes), scheduler, CONFIG)
    late = T0 + dt.timedelta(minutes=59, seconds=50)  # pending for T0+60, the cap: 10 s away, keep a minute's lead
    debounce(S3_EVENT, late, scheduler, CONFIG)
    assert _pending(scheduler)["ScheduleExpression"] == _at(late + dt.timedelta(minutes=1))


def test_after_the_execution_fired_a_new_request_starts_a_new_batch(scheduler: Any) -> None:
    debounce(S3_EVENT, T0, scheduler, CONFIG)
    after = T0 + dt.timedelta(minutes=16)  # the pending schedule's time has passed: it fired
    result = debounce(DRIFT_EVENT, after, scheduler, CONFIG)
    pending = _pending(scheduler)
    assert pending["ScheduleExpression"] == _at(after + dt.timedelta(minutes=15))
    assert result["firstRequest"] == after.isoformat()
    assert result["triggeredBy"] == "drift"  # the earlier batch's reasons went with it


def test_reasons_of_a_batch_accumulate(scheduler: Any) -> None:
    debounce(S3_EVENT, T0, scheduler, CONFIG)
    debounce(DRIFT_EVENT, T0 + dt.timedelta(minutes=1), scheduler, CONFIG)
    debounce(S3_EVENT, T0 + dt.timedelta(minutes=2), scheduler, CONFIG)
    params = _pending(scheduler)["Target"]["SageMakerPipelineParameters"]["PipelineParameterList"]
    assert params == [{"Name": "TriggeredBy", "Value": "drift+new-data"}]


class _RacingClient:
    """The real (moto) client, except that the first read misses a schedule another invocation just made."""

    def __init__(self, client: Any) -> None:
        self._client, self.exceptions, self.missed = client, client.exceptions, False

    def get_schedule(self, **kwargs: Any) -> Any:
        if not self.missed:
            self.missed = True
            raise self.exceptions.ResourceNotFoundException(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "not yet"}}, "GetSchedule")
        return self._client.get_schedule(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_concurrent_create_falls_back_to_an_update(scheduler: Any) -> None:
    debounce(S3_EVENT, T0, scheduler, CONFIG)
    racing = _RacingClient(scheduler)
    debounce(DRIFT_EVENT, T0 + dt.timedelta(minutes=2), racing, CONFIG)
    assert racing.missed
    assert _pending(scheduler)["ScheduleExpression"] == _at(T0 + dt.timedelta(minutes=17))


def test_the_lambda_entry_point_reads_its_configuration_from_the_environment(
    scheduler: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    before = dt.datetime.now(dt.UTC)
    result = lam.handler(S3_EVENT, context=None)
    fires = dt.datetime.fromisoformat(result["expression"][3:-1]).replace(tzinfo=dt.UTC)
    assert before + dt.timedelta(minutes=14) <= fires <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15)
    assert _pending(scheduler)["ScheduleExpression"] == result["expression"]
    logged = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert logged["event"] == "Object Created" and logged["triggeredBy"] == "new-data"


@pytest.mark.parametrize(("event", "reason"), [
    (S3_EVENT, "new-data"),
    (DRIFT_EVENT, "drift"),
    ({"source": "aws.scheduler"}, "schedule"),
    ({"source": "mlops.monitoring"}, "mlops.monitoring"),
    ({}, "manual"),
])
def test_reasons(event: dict[str, Any], reason: str) -> None:
    assert reason_of(event) == reason


def test_the_handler_uses_only_the_standard_library_and_boto3() -> None:
    # Deployed as a single file on the Lambda Python runtime: nothing from this project may be imported.
    lines = Path(lam.__file__).read_text().splitlines()
    imports = {line.split()[1].split(".")[0] for line in lines
               if line.lstrip().startswith(("import ", "from ")) and "__future__" not in line}
    assert imports <= {"datetime", "json", "os", "collections", "dataclasses", "typing", "boto3"}
