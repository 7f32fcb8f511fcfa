"""The serving policy documents (pure helpers), table-driven with exact contents."""

from __future__ import annotations

import pytest

from components._endpoint_policies import (
    ExecutionRoleScope,
    alarm_topic_policy,
    model_execution_policy,
    sagemaker_assume_role_policy,
)

SCOPE = ExecutionRoleScope(
    account_id="222222222222",
    region="us-east-1",
    endpoint_name="mlops-staging-m",
    image_repository_arn="arn:aws:ecr:us-east-1:111111111111:repository/mlops-model",
    artifact_object_arns=["arn:aws:s3:::mlops-dev-artifacts-*/*"],
    artifact_key_arns=["arn:aws:kms:us-east-1:111111111111:key/*"],
)
CAPTURE = {"capture_prefix_arn": "arn:aws:s3:::cap/datacapture/mlops-staging-m",
           "capture_key_arn": "arn:aws:kms:us-east-1:222222222222:key/k"}
VPC = {"subnet_arns": ["arn:aws:ec2:us-east-1:222222222222:subnet/subnet-1"],
       "security_group_arns": ["arn:aws:ec2:us-east-1:222222222222:security-group/sg-1"]}
BASE_SIDS = ["PullServingImage", "LogInToRegistry", "ReadModelArtifact", "DecryptModelArtifact",
             "WriteEndpointLogs", "PublishEndpointMetrics"]


def _replace(**changes: object) -> ExecutionRoleScope:
    return ExecutionRoleScope(**{**SCOPE.__dict__, **changes})


def test_trust_policy_admits_sagemaker_for_this_account_only() -> None:
    assert sagemaker_assume_role_policy("222222222222") == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SageMakerAssumesRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}},
        }],
    }


@pytest.mark.parametrize(("scope", "sids"), [
    (SCOPE, BASE_SIDS),
    (_replace(**CAPTURE), [*BASE_SIDS, "WriteDataCapture", "EncryptDataCapture"]),
    (_replace(**VPC), [*BASE_SIDS, "CreateInterfacesInGivenSubnets", "ManageOwnInterfaces", "DescribeNetwork"]),
])
def test_execution_policy_grants_capture_and_network_only_when_used(scope: ExecutionRoleScope,
                                                                   sids: list[str]) -> None:
    document = model_execution_policy(scope)
    assert document["Version"] == "2012-10-17"
    assert [s["Sid"] for s in document["Statement"]] == sids
    assert all(s["Effect"] == "Allow" for s in document["Statement"])


def test_execution_policy_names_exact_resources() -> None:
    by_sid = {s["Sid"]: s for s in model_execution_policy(_replace(**CAPTURE, **VPC))["Statement"]}
    group = "arn:aws:logs:us-east-1:222222222222:log-group:/aws/sagemaker/Endpoints/mlops-staging-m"
    assert by_sid["WriteEndpointLogs"]["Resource"] == [group, f"{group}:*"]
    assert by_sid["PullServingImage"]["Resource"] == [SCOPE.image_repository_arn]
    assert by_sid["ReadModelArtifact"] == {"Sid": "ReadModelArtifact", "Effect": "Allow", "Action": "s3:GetObject",
                                           "Resource": ["arn:aws:s3:::mlops-dev-artifacts-*/*"]}
    via_s3 = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    assert by_sid["DecryptModelArtifact"]["Condition"] == via_s3
    assert by_sid["EncryptDataCapture"]["Condition"] == via_s3
    assert by_sid["WriteDataCapture"]["Resource"] == "arn:aws:s3:::cap/datacapture/mlops-staging-m/*"
    assert by_sid["CreateInterfacesInGivenSubnets"]["Resource"] == [
        *VPC["subnet_arns"], *VPC["security_group_arns"],
        "arn:aws:ec2:us-east-1:222222222222:network-interface/*",
    ]
    assert by_sid["ManageOwnInterfaces"]["Resource"] == "arn:aws:ec2:us-east-1:222222222222:network-interface/*"


def test_no_statement_allows_every_action_and_star_resources_are_the_unscopable_ones() -> None:
    document = model_execution_policy(_replace(**CAPTURE, **VPC))
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), statement
        if statement["Resource"] == "*":
            assert all(a == "ecr:GetAuthorizationToken" or a == "cloudwatch:PutMetricData" or
                       a.startswith("ec2:Describe") for a in actions), statement


def test_alarm_topic_policy_lets_only_this_accounts_alarms_publish() -> None:
    assert alarm_topic_policy("arn:aws:sns:us-east-1:222222222222:t", "222222222222", "us-east-1") == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowThisAccountsAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": "arn:aws:sns:us-east-1:222222222222:t",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "222222222222"},
                "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:222222222222:alarm:*"},
            },
        }],
    }
