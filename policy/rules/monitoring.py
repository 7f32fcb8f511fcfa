"""CloudWatch and SNS: alarms that act, logs that are kept and encrypted, topics that are private."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity
from pulumi_policy.proxy import UnknownValueError

from .._iam import allow_statements, principal_account
from .._props import as_list, get, is_false, is_set, json_value, number
from .._rule import ADVISORY_IN_DEV, resource_rule

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
MIN_RETENTION_DAYS = 365
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


@resource_rule(
    name="cloudwatch-alarm-actions-enabled",
    ids=("CKV_AWS_319", "CT.CLOUDWATCH.PR.4"),
    summary="Alarms have their actions enabled",
    fix="Leave actions_enabled unset or True on aws.cloudwatch.MetricAlarm",
    types=(METRIC_ALARM,),
    severity=Severity.MEDIUM,
)
def alarm_actions_enabled(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if is_false(get(args.props, "actionsEnabled")):
        yield "alarm actions are disabled"


@resource_rule(
    name="cloudwatch-alarm-has-action",
    ids=("CT.CLOUDWATCH.PR.1",),
    summary="Alarms notify someone when they go into ALARM",
    fix="Set alarm_actions=[topic.arn] (and ok_actions) on aws.cloudwatch.MetricAlarm",
    types=(METRIC_ALARM,),
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def alarm_has_action(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if not is_set(args.props, "alarmActions"):
        yield "alarm has no ALARM-state action"


@resource_rule(
    name="cloudwatch-log-group-retention",
    ids=("CKV_AWS_66", "CKV_AWS_338", "CT.CLOUDWATCH.PR.2"),
    summary=f"Log groups keep logs at least {MIN_RETENTION_DAYS} days (0 = never expire)",
    fix=f"Set retention_in_days={MIN_RETENTION_DAYS} (or more) on aws.cloudwatch.LogGroup",
    types=(LOG_GROUP,),
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def log_group_retention(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    days = number(get(args.props, "retentionInDays"))
    if days is None:
        yield "log group has no retention set"
    elif 0 < days < MIN_RETENTION_DAYS:
        yield f"log group keeps logs {int(days)} days"


@resource_rule(
    name="cloudwatch-log-group-kms",
    ids=("CKV_AWS_158", "CT.CLOUDWATCH.PR.3"),
    summary="Log groups are encrypted with a KMS key",
    fix="Set kms_key_id=key.arn (the key policy must allow logs.<region>.amazonaws.com)",
    types=(LOG_GROUP,),
    severity=Severity.MEDIUM,
)
def log_group_kms(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if not is_set(args.props, "kmsKeyId"):
        yield "log group without a KMS key"


@resource_rule(
    name="sns-topic-kms",
    ids=("CKV_AWS_26", "SNS.1"),
    summary="Topics are encrypted with a customer-managed key CloudWatch can use (not alias/aws/sns, which "
    "alarms cannot publish to)",
    fix="Set kms_master_key_id=key.arn, a key whose policy allows cloudwatch.amazonaws.com",
    types=(TOPIC,),
    severity=Severity.MEDIUM,
)
def topic_kms(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if not is_set(args.props, "kmsMasterKeyId"):
        yield "topic is not encrypted"
    elif _known(args.props, "kmsMasterKeyId") == AWS_MANAGED_SNS_KEY:
        yield "topic uses alias/aws/sns: CloudWatch alarms cannot publish to it"


def _known(props: object, key: str) -> object:
    """The value, or None while it is not known (a key ARN output is never the AWS-managed alias)."""
    try:
        return get(props, key)
    except UnknownValueError:
        return None


def _allowed_accounts(args: ResourceValidationArgs) -> set[str]:
    if args.provider is None:
        return set()
    return {str(a) for a in as_list(json_value(get(args.provider.props, "allowedAccountIds")))}


@resource_rule(
    name="sns-topic-policy-not-public",
    ids=("CKV_AWS_169", "CKV_AWS_385"),
    summary="Topic policies grant no one-and-everyone access and no other account",
    fix="Allow cloudwatch.amazonaws.com / events.amazonaws.com with an aws:SourceAccount condition, or named "
    "roles of this account",
    types=(TOPIC, TOPIC_POLICY),
)
def topic_policy_not_public(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    own = _allowed_accounts(args)
    for st in allow_statements(get(args.props, "policy")):
        if st.public_principal and not st.conditions:
            yield f"{st.label} lets any principal use the topic"
        others = {a for a in (principal_account(p) for p in st.principals.get("AWS", ())) if a} - own
        if own and others:
            yield f"{st.label} grants account(s) {', '.join(sorted(others))}, outside this stack's account"
