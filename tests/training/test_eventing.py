"""Automatic retraining: the rules' patterns and target wiring in each stack's plan, and the patterns routing
real events on a moto server (S3 with EventBridge notifications -> the plan's rules -> a queue standing in for
the function, whose events then drive the debounce handler against moto's EventBridge Scheduler).

What moto cannot show: Lambda invocation by EventBridge (moto runs Lambdas only with Docker) and a schedule
firing; the function's wiring is asserted on the plan and its logic in test_retrain_debounce.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest

from components._retrain_debounce import DebounceConfig, debounce
from mlops.plan import Plan, RecordedResource

from .conftest import (
    ACCOUNTS,
    FUNCTION,
    LOG_GROUP,
    PERMISSION,
    QUEUE,
    QUEUE_POLICY,
    REGION,
    ROLE,
    RULE,
    SCHEDULE,
    SCHEDULE_GROUP,
    STACKS,
    TARGET,
    TRIGGER,
    bucket_names,
    key_arn,
    named,
    one,
    plan_with,
    stack_config,
    under,
    with_training,
)

PREFIX = "incoming/fraud-detector/"


def _rules(plan: Plan) -> dict[str, RecordedResource]:
    return {key: named(plan, RULE, f"-{key}") for key in ("data", "drift")}


def _function_arn(stack: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNTS[stack]}:function:mlops-{stack}-fraud-detector-retrain"


def _pipeline_arn(stack: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNTS[stack]}:pipeline/mlops-{stack}-fraud-detector"


@pytest.mark.parametrize("stack", STACKS)
def test_rules_match_new_raw_data_and_drift_alarms_of_this_model(plans: dict[str, Plan], stack: str) -> None:
    rules = _rules(plans[stack])
    assert json.loads(rules["data"].inputs["eventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket_names(plans[stack])["raw"]]}, "object": {"key": [{"prefix": PREFIX}]}},
    }
    assert json.loads(rules["drift"].inputs["eventPattern"]) == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [{"prefix": f"mlops-{stack}-fraud-detector-drift"}], "state": {"value": ["ALARM"]}},
    }
    assert all(f"{TRIGGER}$" in r.urn for r in rules.values())


@pytest.mark.parametrize("stack", STACKS)
def test_both_rules_target_the_debounce_function_with_retries_and_a_dead_letter_queue(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    queue = one(plan.of_type(QUEUE))
    queue_arn_prefix = f"arn:aws:sqs:{REGION}:{ACCOUNTS[stack]}:{queue.name}-"
    for key, rule in _rules(plan).items():
        target = named(plan, TARGET, f"-{key}-target")
        assert rule.urn in target.property_dependencies["rule"]
        assert target.inputs["arn"] == _function_arn(stack)
        assert target.inputs["retryPolicy"] == {"maximumEventAgeInSeconds": 3600, "maximumRetryAttempts": 10}
        assert target.inputs["deadLetterConfig"]["arn"].startswith(queue_arn_prefix)
        permission = named(plan, PERMISSION, f"-{key}-invoke")
        assert permission.inputs["principal"] == "events.amazonaws.com"
        assert permission.inputs["action"] == "lambda:InvokeFunction"
        assert permission.inputs["function"] == f"mlops-{stack}-fraud-detector-retrain"
        assert permission.inputs["sourceArn"].startswith(f"arn:aws:events:{REGION}:{ACCOUNTS[stack]}:rule/{rule.name}-")
        assert permission.urn in target.dependencies  # invocable before events can arrive
    document = json.loads(one(plan.of_type(QUEUE_POLICY)).inputs["policy"])
    assert [r.split(":rule/")[1].rsplit("-", 1)[0] for r in document["Statement"][0]["Condition"]["ArnEquals"][
        "aws:SourceArn"]] == [r.name for r in _rules(plan).values()]
    assert queue.inputs["kmsMasterKeyId"] == key_arn(plan)


@pytest.mark.parametrize("stack", STACKS)
def test_a_parked_request_pages_the_stacks_alert_topic(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    alarm = one(under(plan, TRIGGER, "aws:cloudwatch/metricAlarm:MetricAlarm")).inputs
    queue_name = one(plan.of_type(QUEUE)).inputs.get("name") or alarm["dimensions"]["QueueName"]
    assert alarm["name"] == f"mlops-{stack}-fraud-detector-retraining-dead-letters"
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {"QueueName": queue_name}
    assert queue_name.startswith(f"mlops-{stack}-fraud-detector-dead-letters-")
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["actionsEnabled"] is True
    assert alarm["alarmActions"] == alarm["okActions"] == [plan.outputs["alertTopicArn"]]


@pytest.mark.parametrize("stack", STACKS)
def test_the_function_keeps_one_pending_schedule_that_starts_this_pipeline(plans: dict[str, Plan], stack: str) -> None:
    plan, account = plans[stack], ACCOUNTS[stack]
    training = stack_config(stack)["mlops:models"][0]["training"]
    function = one(plan.of_type(FUNCTION)).inputs
    env = function["environment"]["variables"]
    starter = named(plan, ROLE, "-starter")
    assert env == {
        "SCHEDULE_GROUP": f"mlops-{stack}-fraud-detector",
        "SCHEDULE_NAME": "pending-retraining",
        "PIPELINE_ARN": _pipeline_arn(stack),
        "STARTER_ROLE_ARN": env["STARTER_ROLE_ARN"],
        "DEAD_LETTER_QUEUE_ARN": function["deadLetterConfig"]["targetArn"],
        "DEBOUNCE_MINUTES": str(training["debounceMinutes"]),
        "MAX_DELAY_MINUTES": str(training["maxDelayMinutes"]),
    }
    assert env["STARTER_ROLE_ARN"].startswith(f"arn:aws:iam::{account}:role/{starter.name}-")
    assert (function["runtime"], function["handler"]) == ("python3.12", "_retrain_debounce.handler")
    assert function["code"]["assets"]["_retrain_debounce.py"]["path"].endswith("components/_retrain_debounce.py")
    assert function["kmsKeyArn"] == key_arn(plan)
    logs = one(under(plan, TRIGGER, LOG_GROUP))
    assert function["loggingConfig"] == {"logFormat": "JSON", "logGroup": f"/aws/lambda/{function['name']}"}
    assert logs.inputs == {"name": f"/aws/lambda/{function['name']}", "kmsKeyId": key_arn(plan),
                           "retentionInDays": 365}
    assert one(plan.of_type(SCHEDULE_GROUP)).inputs["name"] == f"mlops-{stack}-fraud-detector"


def test_dev_has_no_schedule_and_staging_and_prod_retrain_weekly(plans: dict[str, Plan]) -> None:
    assert plans["dev"].of_type(SCHEDULE) == []
    for stack, day in (("staging", "MON"), ("prod", "SUN")):
        schedule = one(plans[stack].of_type(SCHEDULE)).inputs
        target = schedule["target"]
        assert schedule["scheduleExpression"] == f"cron(0 3 ? * {day} *)"
        assert schedule["scheduleExpressionTimezone"] == "UTC"
        assert schedule["groupName"] == f"mlops-{stack}-fraud-detector"
        assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
        assert target["arn"] == _pipeline_arn(stack)
        assert target["roleArn"] == one(plans[stack].of_type(FUNCTION)).inputs["environment"]["variables"][
            "STARTER_ROLE_ARN"]
        assert target["sagemakerPipelineParameters"] == {"pipelineParameters": [
            {"name": "TriggeredBy", "value": "schedule"}]}
        assert target["deadLetterConfig"]["arn"].startswith(f"arn:aws:sqs:{REGION}:{ACCOUNTS[stack]}:")


def test_switching_new_data_retraining_off_removes_only_that_rule() -> None:
    plan = plan_with("dev", {"mlops:models": with_training("dev", retrainOnNewData=False)})
    assert [r.name for r in plan.of_type(RULE)] == ["mlops-dev-fraud-detector-drift"]
    assert len(plan.of_type(TARGET)) == 1


# --- the patterns route real events (moto server) ---------------------------------------------------------------------
def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        found += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    return found


def test_uploads_under_the_models_prefix_and_its_drift_alarms_reach_the_trigger(
    plans: dict[str, Plan], aws: str
) -> None:
    plan = plans["dev"]
    raw = bucket_names(plan)["raw"]
    s3, events, sqs = _client("s3", aws), _client("events", aws), _client("sqs", aws)
    s3.create_bucket(Bucket=raw)
    # What the DataLake's BucketNotification(eventbridge=True) sets on the raw bucket.
    s3.put_bucket_notification_configuration(Bucket=raw, NotificationConfiguration={"EventBridgeConfiguration": {}})
    queues = {}
    for key, rule in _rules(plan).items():
        queues[key] = _queue(sqs, f"stand-in-{key}")
        events.put_rule(Name=rule.name, EventPattern=rule.inputs["eventPattern"])
        events.put_targets(Rule=rule.name, Targets=[{"Id": "function", "Arn": queues[key][1]}])

    s3.put_object(Bucket=raw, Key=f"{PREFIX}2026-11-27/part-1.parquet", Body=b"1")
    s3.put_object(Bucket=raw, Key=f"{PREFIX}2026-11-27/part-2.parquet", Body=b"2")
    s3.put_object(Bucket=raw, Key="incoming/churn/part-1.parquet", Body=b"other model")
    s3.create_bucket(Bucket="someone-elses-bucket")
    s3.put_bucket_notification_configuration(
        Bucket="someone-elses-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}})
    s3.put_object(Bucket="someone-elses-bucket", Key=f"{PREFIX}x.parquet", Body=b"other bucket")
    for alarm, state in (("mlops-dev-fraud-detector-drift-feature-psi", "ALARM"),
                         ("mlops-dev-fraud-detector-drift-feature-psi", "OK"),
                         ("mlops-dev-fraud-detector-5xx", "ALARM")):
        events.put_events(Entries=[{"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change",
                                    "Detail": json.dumps({"alarmName": alarm, "state": {"value": state}})}])

    arrived = {key: _drain(sqs, url) for key, (url, _) in queues.items()}
    assert sorted(e["detail"]["object"]["key"] for e in arrived["data"]) == [
        f"{PREFIX}2026-11-27/part-1.parquet", f"{PREFIX}2026-11-27/part-2.parquet"]
    assert [(e["detail"]["alarmName"], e["detail"]["state"]["value"]) for e in arrived["drift"]] == [
        ("mlops-dev-fraud-detector-drift-feature-psi", "ALARM")]

    # The function's work, on what arrived: one pending execution for the whole burst, both reasons recorded.
    env = one(plan.of_type(FUNCTION)).inputs["environment"]["variables"]
    scheduler = _client("scheduler", aws)
    scheduler.create_schedule_group(Name=env["SCHEDULE_GROUP"])
    config = DebounceConfig.from_environment(env)
    start = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    for minute, event in enumerate(arrived["data"] + arrived["drift"]):
        debounce(event, start + dt.timedelta(minutes=minute), scheduler, config)
    (listed,) = scheduler.list_schedules(GroupName=env["SCHEDULE_GROUP"])["Schedules"]
    pending = scheduler.get_schedule(Name=listed["Name"], GroupName=env["SCHEDULE_GROUP"])
    assert pending["ScheduleExpression"] == "at(2026-11-27T09:17:00)"  # 15 quiet minutes after the last (09:02)
    assert pending["Target"]["Arn"] == _pipeline_arn("dev")
    assert pending["Target"]["SageMakerPipelineParameters"]["PipelineParameterList"] == [
        {"Name": "TriggeredBy", "Value": "drift+new-data"}]
