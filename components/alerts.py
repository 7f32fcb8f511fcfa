"""Alerts: the stack's one SNS topic that alarms notify, encrypted with the stack's customer-managed key."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._endpoint_policies import alarm_topic_policy


@dataclass
class AlertsArgs:
    """Inputs of Alerts."""

    account_id: pulumi.Input[str]
    """Account whose CloudWatch alarms may publish to the topic (no other account may)."""
    region: pulumi.Input[str]
    """Region of the alarms."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key the topic is encrypted with. Its policy must let cloudwatch.amazonaws.com use it
    (the DataLake key's does): CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key."""


class Alerts(pulumi.ComponentResource):
    """An encrypted SNS topic for alarm notifications, open to this account's CloudWatch alarms only.

    Subscriptions (e-mail, chat, paging) are added out of band or by the monitoring component; the topic is
    what alarms point at, so it exists even before anyone subscribes.
    """

    topic: aws.sns.Topic
    """The topic."""
    topic_arn: pulumi.Output[str]
    """ARN of the topic: the alarm and OK action of every alarm of the stack."""

    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:monitoring:Alerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            kms_master_key_id=args.kms_key_arn,
            tags={"purpose": "alarm notifications"},
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, args.account_id, args.region).apply(
                lambda v: json.dumps(alarm_topic_policy(v[0], v[1], v[2]))
            ),
            opts=child,
        )
        self.topic_arn = self.topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})
