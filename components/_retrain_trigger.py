"""RetrainTrigger: start a model's pipeline on new raw data, on drift alarms (debounced) and on a schedule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from . import _retrain_debounce
from ._training_policies import (
    dead_letter_queue_policy,
    debouncer_role_policy,
    service_trust_policy,
    starter_role_policy,
)

PENDING_SCHEDULE = "pending-retraining"
"""The debounce function's one-time schedule (in the model's schedule group)."""
RECURRING_SCHEDULE = "scheduled-retraining"
"""The recurring schedule from the stack config."""
HANDLER_FILE = Path(_retrain_debounce.__file__)
_DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: two weeks to notice and replay
_EVENT_RETRY = aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_event_age_in_seconds=3600, maximum_retry_attempts=10)


@dataclass
class RetrainTriggerArgs:
    """Inputs of a RetrainTrigger. Omitted fields take the defaults documented here."""

    pipeline_name: str
    """Pipeline to start; also the name of the schedule group and the prefix of the function's names."""
    pipeline_arn: pulumi.Input[str]
    """ARN of that pipeline."""
    account_id: pulumi.Input[str]
    """Account of the stack (trust-policy conditions)."""
    region: str
    """Region of the stack."""
    kms_key_arn: pulumi.Input[str]
    """Key for the dead-letter queue, the function's environment and its logs."""
    raw_bucket_name: pulumi.Input[str] | None = None
    """Bucket whose new objects (under raw_prefix) request retraining; it must send events to EventBridge.
    None: no new-data rule."""
    raw_prefix: str = ""
    """Key prefix of the model's raw data, ending in '/'."""
    drift_alarm_prefix: str | None = None
    """CloudWatch alarms whose names start with this request retraining when they go to ALARM (the hook of
    the monitoring stack). None: no drift rule."""
    debounce_minutes: int = 15
    """Quiet period after the last request before the pipeline starts."""
    max_delay_minutes: int = 240
    """Longest a request waits behind a stream of later ones."""
    schedule: str | None = None
    """EventBridge Scheduler expression (cron/rate) for retraining regardless of data; None: none."""
    schedule_timezone: str = "UTC"
    """Time zone of the schedule."""
    log_retention_days: int = 365
    """Days the debounce function's logs are kept."""
    alarm_topic_arn: pulumi.Input[str] | None = None
    """SNS topic told when something lands in the dead-letter queue (a retraining that did not start).
    None: no alarm."""
    partition: str = "aws"
    """AWS partition of the ARNs built here."""


class RetrainTrigger(pulumi.ComponentResource):
    """EventBridge rules (new raw data, drift alarms) -> a debounce function -> a one-time schedule that
    starts the pipeline once per quiet period; plus an optional recurring schedule. Undeliverable events and
    starts land in an encrypted dead-letter queue."""

    schedule_group: aws.scheduler.ScheduleGroup
    """The model's schedule group (the pending and the recurring schedule live here)."""
    starter_role: aws.iam.Role
    """Role EventBridge Scheduler assumes to start the pipeline."""
    function: aws.lambda_.Function
    """The debounce function."""
    dead_letter_queue: aws.sqs.Queue
    """Events and starts that could not be delivered."""
    rules: dict[str, aws.cloudwatch.EventRule]
    """EventBridge rules by key: `data` (new raw data), `drift` (drift alarms); each present when enabled."""
    schedule: aws.scheduler.Schedule | None
    """The recurring schedule, or None."""
    dead_letter_alarm: aws.cloudwatch.MetricAlarm | None
    """Fires when a retraining request or start was parked in the dead-letter queue; None without a topic."""
    function_arn: pulumi.Output[str]
    """ARN of the debounce function: other stacks' rules may target it to request retraining."""

    def __init__(self, name: str, args: RetrainTriggerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:training:RetrainTrigger", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        arn = f"arn:{args.partition}"
        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dead-letters", kms_master_key_id=args.kms_key_arn,
            message_retention_seconds=_DEAD_LETTER_RETENTION_SECONDS, opts=child)
        self.schedule_group = aws.scheduler.ScheduleGroup(f"{name}-schedules", name=args.pipeline_name, opts=child)
        group_arn = pulumi.Output.concat(
            f"{arn}:scheduler:{args.region}:", args.account_id, f":schedule-group/{args.pipeline_name}")
        self.starter_role = self._starter_role(name, args, group_arn, child)
        self.function = self._debouncer(name, args, child)
        self.rules = self._rules(name, args, child)
        self.schedule = self._recurring(name, args, child) if args.schedule else None
        self.dead_letter_alarm = self._dead_letter_alarm(name, args, child) if args.alarm_topic_arn else None
        self.function_arn = self.function.arn
        self.register_outputs({"function_arn": self.function_arn})

    def _starter_role(
        self, name: str, args: RetrainTriggerArgs, group_arn: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{name}-starter",
            description=f"EventBridge Scheduler starts pipeline {args.pipeline_name}",
            assume_role_policy=pulumi.Output.all(args.account_id, group_arn).apply(
                lambda v: json.dumps(service_trust_policy("scheduler.amazonaws.com", v[0], v[1]))),
            opts=child)
        aws.iam.RolePolicy(
            f"{name}-starter-policy", role=role.id,
            policy=pulumi.Output.all(args.pipeline_arn, self.dead_letter_queue.arn, args.kms_key_arn).apply(
                lambda v: json.dumps(starter_role_policy(*v))),
            opts=child)
        return role

    def _debouncer(self, name: str, args: RetrainTriggerArgs, child: pulumi.ResourceOptions) -> aws.lambda_.Function:
        function_name = f"{args.pipeline_name}-retrain"
        # Created first, encrypted and retained, so the function never writes into an auto-created group.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-retrain-logs", name=f"/aws/lambda/{function_name}", kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days, opts=child)
        # Short role suffixes ("-retrain", "-starter"): IAM role names stop at 64 characters with the suffix.
        role = aws.iam.Role(
            f"{name}-retrain", description=f"Debounces retraining requests of {args.pipeline_name}",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(service_trust_policy("lambda.amazonaws.com", account))),
            opts=child)
        schedule_arn = pulumi.Output.concat(
            f"arn:{args.partition}:scheduler:{args.region}:", args.account_id,
            f":schedule/{args.pipeline_name}/{PENDING_SCHEDULE}")
        role_policy = aws.iam.RolePolicy(
            f"{name}-retrain-policy", role=role.id,
            policy=pulumi.Output.all(schedule_arn, self.starter_role.arn, logs.arn, self.dead_letter_queue.arn,
                                     args.kms_key_arn).apply(lambda v: json.dumps(debouncer_role_policy(*v))),
            opts=child)
        return aws.lambda_.Function(
            f"{name}-retrain-function",
            name=function_name,
            description=f"Debounces retraining requests into one execution of {args.pipeline_name}",
            role=role.arn, runtime="python3.12", architectures=["arm64"], memory_size=128, timeout=30,
            handler=f"{HANDLER_FILE.stem}.handler",
            code=pulumi.AssetArchive({HANDLER_FILE.name: pulumi.FileAsset(str(HANDLER_FILE))}),
            kms_key_arn=args.kms_key_arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={
                "SCHEDULE_GROUP": self.schedule_group.name, "SCHEDULE_NAME": PENDING_SCHEDULE,
                "PIPELINE_ARN": args.pipeline_arn, "STARTER_ROLE_ARN": self.starter_role.arn,
                "DEAD_LETTER_QUEUE_ARN": self.dead_letter_queue.arn,
                "DEBOUNCE_MINUTES": str(args.debounce_minutes), "MAX_DELAY_MINUTES": str(args.max_delay_minutes),
            }),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=logs.name),
            # Async invocations that still fail after Lambda's retries are parked, not dropped.
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=self.dead_letter_queue.arn),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[role_policy, logs])),
        )

    def _rules(self, name: str, args: RetrainTriggerArgs, child: pulumi.ResourceOptions
               ) -> dict[str, aws.cloudwatch.EventRule]:
        patterns: dict[str, tuple[str, pulumi.Input[str]]] = {}
        if args.raw_bucket_name is not None:
            patterns["data"] = ("new raw data", pulumi.Output.from_input(args.raw_bucket_name).apply(
                lambda bucket: json.dumps(new_data_pattern(bucket, args.raw_prefix))))
        if args.drift_alarm_prefix is not None:
            patterns["drift"] = ("a drift alarm", json.dumps(drift_alarm_pattern(args.drift_alarm_prefix)))
        rules: dict[str, aws.cloudwatch.EventRule] = {}
        for key, (what, pattern) in patterns.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}", description=f"Retrain {args.pipeline_name} on {what} (debounced)",
                event_pattern=pattern, opts=child)
            permission = aws.lambda_.Permission(
                f"{name}-{key}-invoke", action="lambda:InvokeFunction", function=self.function.name,
                principal="events.amazonaws.com", source_arn=rule.arn, opts=child)
            aws.cloudwatch.EventTarget(
                f"{name}-{key}-target", rule=rule.name, arn=self.function.arn, retry_policy=_EVENT_RETRY,
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=self.dead_letter_queue.arn),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[permission])))
            rules[key] = rule
        if rules:
            aws.sqs.QueuePolicy(
                f"{name}-dead-letters-policy", queue_url=self.dead_letter_queue.url,
                policy=pulumi.Output.all(self.dead_letter_queue.arn, *(r.arn for r in rules.values())).apply(
                    lambda v: json.dumps(dead_letter_queue_policy(v[0], list(v[1:])))),
                opts=child)
        return rules

    def _dead_letter_alarm(
        self, name: str, args: RetrainTriggerArgs, child: pulumi.ResourceOptions
    ) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            f"{name}-dead-letters-alarm",
            name=f"{args.pipeline_name}-retraining-dead-letters",
            alarm_description=f"{args.pipeline_name}: a retraining request or start failed; see the dead-letter queue",
            namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dead_letter_queue.name}, statistic="Maximum", period=300,
            evaluation_periods=1, threshold=1, comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching", actions_enabled=True,
            alarm_actions=[args.alarm_topic_arn], ok_actions=[args.alarm_topic_arn], opts=child)

    def _recurring(self, name: str, args: RetrainTriggerArgs, child: pulumi.ResourceOptions) -> aws.scheduler.Schedule:
        sched = aws.scheduler
        return sched.Schedule(
            f"{name}-schedule", name=RECURRING_SCHEDULE, group_name=self.schedule_group.name,
            description=f"Retrain {args.pipeline_name} on a schedule",
            schedule_expression=args.schedule, schedule_expression_timezone=args.schedule_timezone,
            flexible_time_window=sched.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=sched.ScheduleTargetArgs(
                arn=args.pipeline_arn, role_arn=self.starter_role.arn,
                sagemaker_pipeline_parameters=sched.ScheduleTargetSagemakerPipelineParametersArgs(pipeline_parameters=[
                    sched.ScheduleTargetSagemakerPipelineParametersPipelineParameterArgs(
                        name=_retrain_debounce.TRIGGER_PARAMETER, value="schedule")]),
                retry_policy=sched.ScheduleTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=10),
                dead_letter_config=sched.ScheduleTargetDeadLetterConfigArgs(arn=self.dead_letter_queue.arn)),
            opts=child)


def new_data_pattern(bucket: str, prefix: str) -> dict[str, object]:
    """EventBridge pattern: an object created in `bucket` under `prefix` (S3 EventBridge notifications)."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": prefix}]}},
    }


def drift_alarm_pattern(alarm_prefix: str) -> dict[str, object]:
    """EventBridge pattern: a CloudWatch alarm named `<alarm_prefix>...` entering ALARM."""
    return {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [{"prefix": alarm_prefix}], "state": {"value": ["ALARM"]}},
    }
