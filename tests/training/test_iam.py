"""IAM of the training pipeline: every statement's actions and resources, per stack, from the offline plan; and
the rule that `*` appears only for actions AWS cannot scope (WILDCARD_ONLY_ACTIONS). What this cannot prove:
that the permissions suffice for SageMaker at run time (no IAM simulator offline); docs/training.md lists
the actions each step needs and where they come from."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components._training_policies import (
    WILDCARD_ONLY_ACTIONS,
    TrainingScope,
    dead_letter_queue_policy,
    execution_role_policy,
    service_trust_policy,
)
from mlops.plan import Plan

from .conftest import (
    ACCOUNTS,
    FUNCTION,
    PIPELINE,
    QUEUE,
    REGION,
    ROLE,
    ROLE_POLICY,
    STACKS,
    TRAINING,
    as_list,
    bucket_names,
    key_arn,
    named,
    one,
    stack_config,
    statements,
    under,
)


def _trust(plan: Plan, role_suffix: str) -> dict[str, Any]:
    return json.loads(named(plan, ROLE, role_suffix).inputs["assumeRolePolicy"])


def _function(plan: Plan) -> dict[str, Any]:
    return one(plan.of_type(FUNCTION)).inputs


@pytest.mark.parametrize("stack", STACKS)
def test_the_execution_role_names_only_this_stacks_data_key_image_logs_and_registry(
    plans: dict[str, Plan], stack: str
) -> None:
    plan, account = plans[stack], ACCOUNTS[stack]
    buckets = {k: f"arn:aws:s3:::{v}" for k, v in bucket_names(plan).items()}
    registry = stack_config(stack)["mlops:image"].get("accountId", account)
    group = f"mlops-{stack}-fraud-detector"
    sagemaker = f"arn:aws:sagemaker:{REGION}:{account}"
    found = statements(json.loads(named(plan, ROLE_POLICY, "-exec-policy").inputs["policy"]))
    expected: dict[str, tuple[list[str], list[str]]] = {
        "ReadRawData": (["s3:GetObject"], [f"{buckets['raw']}/incoming/fraud-detector/*"]),
        "ListRawData": (["s3:ListBucket"], [buckets["raw"]]),
        "ReadModelCode": (["s3:GetObject"], [f"{buckets['artifacts']}/code/fraud-detector/*"]),
        "ListPipelineData": (["s3:ListBucket"], [buckets["curated"], buckets["artifacts"]]),
        "ReadWritePipelineData": (["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                                  [f"{buckets['curated']}/pipelines/fraud-detector/*",
                                   f"{buckets['artifacts']}/pipelines/fraud-detector/*"]),
        "UseDataKey": (["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
                        "kms:ReEncryptTo"], [key_arn(plan)]),
        "GrantDataKeyToSageMaker": (["kms:CreateGrant"], [key_arn(plan)]),
        "PullImage": (["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                      [f"arn:aws:ecr:{REGION}:{registry}:repository/mlops-model"]),
        "AuthenticateToEcr": (["ecr:GetAuthorizationToken"], ["*"]),
        "WriteJobLogs": (["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                          "logs:PutLogEvents"],
                         [f"arn:aws:logs:{REGION}:{account}:log-group:/aws/sagemaker/ProcessingJobs:*",
                          f"arn:aws:logs:{REGION}:{account}:log-group:/aws/sagemaker/TrainingJobs:*"]),
        "RunPipelineJobs": (["sagemaker:AddTags", "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
                             "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob",
                             "sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob"],
                            [f"{sagemaker}:processing-job/pipelines-*", f"{sagemaker}:training-job/pipelines-*"]),
        "RegisterModelVersions": (["sagemaker:AddTags", "sagemaker:CreateModelPackage",
                                   "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
                                  [f"{sagemaker}:model-package-group/{group}", f"{sagemaker}:model-package/{group}/*"]),
        # The role the pipeline runs as: the execution role passes itself to the jobs.
        "PassRoleToJobs": (["iam:PassRole"], [one(plan.of_type(PIPELINE)).inputs["roleArn"]]),
    }
    network = stack_config(stack).get("mlops:network")
    if network:
        ec2 = f"arn:aws:ec2:{REGION}:{account}"
        expected |= {
            "DescribeNetwork": (["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
                                 "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"], ["*"]),
            "AttachToVpc": (["ec2:CreateNetworkInterface"],
                            [f"{ec2}:network-interface/*", *(f"{ec2}:subnet/{s['id']}" for s in network["subnets"]),
                             *(f"{ec2}:security-group/{g}" for g in network["securityGroupIds"])]),
            "ManageJobNetworkInterfaces": (["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                                            "ec2:DeleteNetworkInterfacePermission"], [f"{ec2}:network-interface/*"]),
        }
    assert {sid: (as_list(s["Action"]), as_list(s["Resource"])) for sid, s in found.items()} == expected
    assert all(s["Effect"] == "Allow" for s in found.values())
    assert found["ListRawData"]["Condition"] == {"StringLike": {"s3:prefix": ["incoming/fraud-detector/*"]}}
    assert found["ListPipelineData"]["Condition"] == {
        "StringLike": {"s3:prefix": ["pipelines/fraud-detector/*", "code/fraud-detector/*"]}}
    assert found["GrantDataKeyToSageMaker"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert found["PassRoleToJobs"]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


@pytest.mark.parametrize("stack", STACKS)
def test_the_trigger_roles_start_only_this_pipeline(plans: dict[str, Plan], stack: str) -> None:
    plan, account = plans[stack], ACCOUNTS[stack]
    name = f"mlops-{stack}-fraud-detector"
    pipeline = f"arn:aws:sagemaker:{REGION}:{account}:pipeline/{name}"
    queue_arn = _function(plan)["deadLetterConfig"]["targetArn"]
    assert queue_arn.startswith(f"arn:aws:sqs:{REGION}:{account}:{one(plan.of_type(QUEUE)).name}-")
    starter = statements(json.loads(named(plan, ROLE_POLICY, "-starter-policy").inputs["policy"]))
    assert {sid: (as_list(s["Action"]), as_list(s["Resource"])) for sid, s in starter.items()} == {
        "StartPipeline": (["sagemaker:StartPipelineExecution"], [pipeline]),
        "ParkFailedStarts": (["sqs:SendMessage"], [queue_arn]),
        "EncryptParkedStarts": (["kms:Decrypt", "kms:GenerateDataKey"], [key_arn(plan)]),
    }
    retrain = statements(json.loads(named(plan, ROLE_POLICY, "-retrain-policy").inputs["policy"]))
    function = _function(plan)["name"]
    assert {sid: (as_list(s["Action"]), as_list(s["Resource"])) for sid, s in retrain.items()} == {
        "KeepPendingSchedule": (["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"],
                                [f"arn:aws:scheduler:{REGION}:{account}:schedule/{name}/pending-retraining"]),
        "PassStarterRole": (["iam:PassRole"], [_function(plan)["environment"]["variables"]["STARTER_ROLE_ARN"]]),
        "WriteLogs": (["logs:CreateLogStream", "logs:PutLogEvents"],
                      [f"arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/{function}:*"]),
        "ParkFailedInvocations": (["sqs:SendMessage"], [queue_arn]),
        "UseDataKey": (["kms:Decrypt", "kms:GenerateDataKey"], [key_arn(plan)]),
    }
    assert retrain["PassStarterRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


@pytest.mark.parametrize("stack", STACKS)
def test_each_role_trusts_one_service_for_this_account_only(plans: dict[str, Plan], stack: str) -> None:
    plan, account = plans[stack], ACCOUNTS[stack]
    group = f"arn:aws:scheduler:{REGION}:{account}:schedule-group/mlops-{stack}-fraud-detector"
    for suffix, service, source in (("-exec", "sagemaker.amazonaws.com", None),
                                    ("-starter", "scheduler.amazonaws.com", group),
                                    ("-retrain", "lambda.amazonaws.com", None)):
        (statement,) = _trust(plan, suffix)["Statement"]
        condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
        if source:
            condition["ArnLike"] = {"aws:SourceArn": source}
        assert statement == {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole",
                             "Condition": condition}, suffix


@pytest.mark.parametrize("stack", STACKS)
def test_no_wildcard_where_aws_allows_a_narrower_resource(plans: dict[str, Plan], stack: str) -> None:
    documents = [json.loads(r.inputs["policy"]) for r in under(plans[stack], TRAINING, ROLE_POLICY)]
    assert len(documents) == 3
    for document in documents:
        for statement in document["Statement"]:
            actions = as_list(statement["Action"])
            assert all(a != "*" and not a.endswith(":*") and "*" not in a for a in actions), actions
            if "*" in as_list(statement["Resource"]):
                assert set(actions) <= WILDCARD_ONLY_ACTIONS, statement["Sid"]


def _scope(**changes: Any) -> TrainingScope:
    base = dict(
        partition="aws", region="eu-west-1", account_id="444455556666", pipeline_name="p-x-m",
        role_arn="arn:aws:iam::444455556666:role/r", raw_bucket_arn="arn:aws:s3:::raw", raw_prefix="incoming/m/",
        curated_bucket_arn="arn:aws:s3:::cur", artifacts_bucket_arn="arn:aws:s3:::art", work_prefix="pipelines/m",
        code_prefix="code/m", kms_key_arn="arn:aws:kms:eu-west-1:444455556666:key/k",
        image_repository_arn="arn:aws:ecr:eu-west-1:111111111111:repository/img",
    )
    return TrainingScope(**{**base, **changes})


POLICY_CASES = [
    # (scope changes, Sid, expected resources)
    ({}, "RunPipelineJobs", ["arn:aws:sagemaker:eu-west-1:444455556666:processing-job/pipelines-*",
                             "arn:aws:sagemaker:eu-west-1:444455556666:training-job/pipelines-*"]),
    ({"partition": "aws-cn", "region": "cn-north-1"}, "WriteJobLogs",
     ["arn:aws-cn:logs:cn-north-1:444455556666:log-group:/aws/sagemaker/ProcessingJobs:*",
      "arn:aws-cn:logs:cn-north-1:444455556666:log-group:/aws/sagemaker/TrainingJobs:*"]),
    ({"subnet_ids": ("subnet-1",), "security_group_ids": ("sg-1", "sg-2")}, "AttachToVpc",
     ["arn:aws:ec2:eu-west-1:444455556666:network-interface/*", "arn:aws:ec2:eu-west-1:444455556666:subnet/subnet-1",
      "arn:aws:ec2:eu-west-1:444455556666:security-group/sg-1",
      "arn:aws:ec2:eu-west-1:444455556666:security-group/sg-2"]),
    ({}, "PullImage", ["arn:aws:ecr:eu-west-1:111111111111:repository/img"]),
]


@pytest.mark.parametrize(("changes", "sid", "resources"), POLICY_CASES)
def test_execution_policy_table(changes: dict[str, Any], sid: str, resources: list[str]) -> None:
    assert as_list(statements(execution_role_policy(_scope(**changes)))[sid]["Resource"]) == resources


def test_without_a_vpc_the_role_gets_no_network_rights() -> None:
    found = statements(execution_role_policy(_scope()))
    assert not {"DescribeNetwork", "AttachToVpc", "ManageJobNetworkInterfaces"} & found.keys()


def test_helper_policies() -> None:
    assert service_trust_policy("lambda.amazonaws.com", "1")["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "1"}}
    document = dead_letter_queue_policy("arn:q", ["arn:r1", "arn:r2"])
    assert document["Statement"] == [{
        "Sid": "EventBridgeDeadLetters", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": "arn:q", "Condition": {"ArnEquals": {"aws:SourceArn": ["arn:r1",
                                                                                                         "arn:r2"]}}}]
