"""The planned serving resources replayed as AWS API calls against a moto server on 127.0.0.1 (real HTTP).

What this proves: every planned input maps onto the API's shapes and enums, the IAM documents pass IAM's
policy grammar (moto validates it), and the resources reference each other in a creatable order
(model -> config -> endpoint -> scalable target). What it cannot prove: moto does not enforce SageMaker's
feature rules (serverless without capture or VPC, KMS keys on local-NVMe types, canary limits) - the settings
validator and docs/endpoints.md carry those - nor that the provider sends exactly these calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from mlops.plan import Plan, RecordedResource
from tests._project import moto_server

from .conftest import (
    ALARM,
    CONFIG,
    ENDPOINT,
    LOG_GROUP,
    MODEL,
    ROLE,
    ROLE_POLICY,
    SCALING_POLICY,
    TARGET,
    TOPIC,
    TOPIC_POLICY,
    component_of,
    one,
    under,
)

REGION = "us-east-1"
# Map keys whose members are user data (environment variables, dimensions): never renamed.
_VERBATIM = {"environment"}
_RENAMED = {"memorySizeInMb": "MemorySizeInMB"}


def _api(value: Any) -> Any:
    """Pulumi's camelCase input shapes as the API's PascalCase ones (tags as the API's Key/Value list)."""
    if isinstance(value, list):
        return [_api(v) for v in value]
    if isinstance(value, dict):
        return {
            _RENAMED.get(k, k[:1].upper() + k[1:]):
                [{"Key": t, "Value": u} for t, u in v.items()] if k == "tags" else v if k in _VERBATIM else _api(v)
            for k, v in value.items()
        }
    return value


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


class Replay:
    """Clients of one moto server and the replay of one model's planned resources."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    def role(self, role: RecordedResource, policy: RecordedResource) -> str:
        iam = self.client("iam")
        name = role.name + "-replay"
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=role.inputs["assumeRolePolicy"])["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="execution", PolicyDocument=policy.inputs["policy"])
        return arn

    def topic(self, topic: RecordedResource, policy: RecordedResource, key_arn: str) -> str:
        sns = self.client("sns")
        arn = sns.create_topic(Name=topic.name, Attributes={"KmsMasterKeyId": key_arn})["TopicArn"]
        document = json.loads(policy.inputs["policy"])
        document["Statement"][0]["Resource"] = arn
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(document))
        return arn

    def alarm(self, alarm: RecordedResource, topic_arn: str) -> None:
        i = alarm.inputs
        optional = {"Statistic": i.get("statistic"), "ExtendedStatistic": i.get("extendedStatistic"),
                    "EvaluateLowSampleCountPercentile": i.get("evaluateLowSampleCountPercentiles")}
        self.client("cloudwatch").put_metric_alarm(
            AlarmName=i["name"], AlarmDescription=i["alarmDescription"], Namespace=i["namespace"],
            MetricName=i["metricName"], Dimensions=[{"Name": k, "Value": v} for k, v in i["dimensions"].items()],
            Period=i["period"], EvaluationPeriods=i["evaluationPeriods"], DatapointsToAlarm=i["datapointsToAlarm"],
            Threshold=i["threshold"], ComparisonOperator=i["comparisonOperator"],
            TreatMissingData=i["treatMissingData"], ActionsEnabled=i["actionsEnabled"], AlarmActions=[topic_arn],
            OKActions=[topic_arn], **{k: v for k, v in optional.items() if v is not None},
        )

    def serving(self, inside: list[RecordedResource], role_arn: str) -> dict[str, Any]:
        sagemaker = self.client("sagemaker")
        config, endpoint = one(inside, CONFIG).inputs, one(inside, ENDPOINT).inputs
        model = _api(one(inside, MODEL).inputs)
        (variant,) = config["productionVariants"]
        sagemaker.create_model(ModelName=variant["modelName"], **{**model, "ExecutionRoleArn": role_arn})
        extra = {k: v for k, v in _api(config).items() if k not in ("ProductionVariants", "KmsKeyArn")}
        if "kmsKeyArn" in config:
            extra["KmsKeyId"] = config["kmsKeyArn"]
        sagemaker.create_endpoint_config(EndpointConfigName=endpoint["endpointConfigName"],
                                         ProductionVariants=_api(config["productionVariants"]), **extra)
        deployment = {"DeploymentConfig": _api(endpoint["deploymentConfig"])} if "deploymentConfig" in endpoint else {}
        sagemaker.create_endpoint(EndpointName=endpoint["name"], EndpointConfigName=endpoint["endpointConfigName"],
                                  **deployment)
        return sagemaker.describe_endpoint(EndpointName=endpoint["name"])

    def scaling(self, target: RecordedResource, policy: RecordedResource) -> dict[str, Any]:
        aas = self.client("application-autoscaling")
        aas.register_scalable_target(**_api(target.inputs))
        tracking = _api(policy.inputs["targetTrackingScalingPolicyConfiguration"])
        where = {k: v for k, v in _api(target.inputs).items() if k not in ("MinCapacity", "MaxCapacity")}
        aas.put_scaling_policy(PolicyName=policy.name, PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration=tracking, **where)
        (found,) = aas.describe_scaling_policies(ServiceNamespace="sagemaker",
                                                 ResourceId=target.inputs["resourceId"])["ScalingPolicies"]
        return found

    def logs(self, group: RecordedResource, key_arn: str) -> dict[str, Any]:
        logs = self.client("logs")
        name = group.inputs["name"]
        logs.create_log_group(logGroupName=name, kmsKeyId=key_arn)
        logs.put_retention_policy(logGroupName=name, retentionInDays=group.inputs["retentionInDays"])
        (found,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return found


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_planned_serving_resources_are_accepted_by_the_aws_api_model(
    moto_url: str, plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    replay = Replay(moto_url)
    key_arn = replay.client("kms").create_key(Description=f"{stack} data key")["KeyMetadata"]["Arn"]
    inside = under(plan, component_of(plan, f"mlops-{stack}-fraud-detector"))

    topic_arn = replay.topic(one(plan.resources, TOPIC), one(plan.resources, TOPIC_POLICY), key_arn)
    for alarm in [r for r in inside if r.type == ALARM]:
        replay.alarm(alarm, topic_arn)
    role_arn = replay.role(one(inside, ROLE), one(inside, ROLE_POLICY))
    group = replay.logs(one(inside, LOG_GROUP), key_arn)
    described = replay.serving(inside, role_arn)

    assert described["EndpointConfigName"] == one(inside, ENDPOINT).inputs["endpointConfigName"]
    assert group["retentionInDays"] == (30 if stack == "dev" else 365) and group["kmsKeyId"] == key_arn
    alarms = replay.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"mlops-{stack}-fraud-detector-")
    assert {a["MetricName"] for a in alarms["MetricAlarms"]} == {"Invocation5XXErrors", "ModelLatency"}
    assert all(a["ActionsEnabled"] and a["AlarmActions"] == [topic_arn] for a in alarms["MetricAlarms"])
    config = replay.client("sagemaker").describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    # moto answers an empty DataCaptureConfig when there is none.
    assert bool(config.get("DataCaptureConfig")) is (stack != "dev")
    if stack == "dev":
        assert "ServerlessConfig" in config["ProductionVariants"][0] and "KmsKeyId" not in config
        tags = replay.client("sagemaker").list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"]
        assert {"Key": "waiver:sagemaker-endpoint-data-capture",
                "Value": "Serverless Inference does not support data capture"} in tags
    else:
        policy = replay.scaling(one(inside, TARGET), one(inside, SCALING_POLICY))
        assert config["DataCaptureConfig"]["EnableCapture"] is True
        assert config["KmsKeyId"] == plan.outputs["dataKeyArn"]
        metric = policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
        assert metric["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
