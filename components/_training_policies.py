"""IAM and resource policies of a training pipeline, as plain dicts (pure, table-tested in tests/training).

Every statement names its resources; `*` appears only for actions AWS does not scope to resources
(WILDCARD_ONLY_ACTIONS), and the tests hold the policies to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._policy_documents import policy

# Actions without resource-level permissions: IAM accepts only "*" for them (Service Authorization Reference).
WILDCARD_ONLY_ACTIONS = frozenset({
    "ecr:GetAuthorizationToken",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeDhcpOptions",
})
# SageMaker Pipelines names the jobs it starts "pipelines-<execution id>-<step>-<suffix>".
PIPELINE_JOB_PREFIX = "pipelines-"
SAGEMAKER_LOG_GROUPS = ("/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TrainingJobs")


@dataclass(frozen=True)
class TrainingScope:
    """What one model's pipeline may touch: this stack's buckets (by prefix), key, image and registry."""

    partition: str
    region: str
    account_id: str
    pipeline_name: str
    """Pipeline name, also the model package group name."""
    role_arn: str
    """The execution role itself (the pipeline passes it to the jobs it starts)."""
    raw_bucket_arn: str
    raw_prefix: str
    """Key prefix of the model's raw data, ending in '/'."""
    curated_bucket_arn: str
    artifacts_bucket_arn: str
    work_prefix: str
    """Key prefix of the pipeline's splits, models, checkpoints and evaluations (no trailing '/')."""
    code_prefix: str
    """Key prefix of the uploaded model code (no trailing '/')."""
    kms_key_arn: str
    image_repository_arn: str
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()

    def sagemaker_arn(self, resource: str) -> str:
        """`arn:<partition>:sagemaker:<region>:<account>:<resource>`."""
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account_id}:{resource}"


def service_trust_policy(service: str, account_id: str, source_arn: str | None = None) -> dict[str, Any]:
    """Trust policy letting one AWS service assume the role, only on behalf of this account (and, with
    source_arn, only for that resource): the confused-deputy guard."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return policy({
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    })


def _data_statements(s: TrainingScope) -> list[dict[str, Any]]:
    work = [f"{s.curated_bucket_arn}/{s.work_prefix}/*", f"{s.artifacts_bucket_arn}/{s.work_prefix}/*"]
    return [
        {"Sid": "ReadRawData", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"{s.raw_bucket_arn}/{s.raw_prefix}*"},
        {"Sid": "ListRawData", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": s.raw_bucket_arn,
         "Condition": {"StringLike": {"s3:prefix": [f"{s.raw_prefix}*"]}}},
        {"Sid": "ReadModelCode", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"{s.artifacts_bucket_arn}/{s.code_prefix}/*"},
        {"Sid": "ListPipelineData", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": [s.curated_bucket_arn, s.artifacts_bucket_arn],
         "Condition": {"StringLike": {"s3:prefix": [f"{s.work_prefix}/*", f"{s.code_prefix}/*"]}}},
        {"Sid": "ReadWritePipelineData", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], "Resource": work},
        {"Sid": "UseDataKey", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
                    "kms:ReEncryptTo"],
         "Resource": s.kms_key_arn},
        # SageMaker encrypts job volumes through a grant it creates with the caller's rights.
        {"Sid": "GrantDataKeyToSageMaker", "Effect": "Allow", "Action": "kms:CreateGrant",
         "Resource": s.kms_key_arn, "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    ]


def _job_statements(s: TrainingScope) -> list[dict[str, Any]]:
    jobs = [s.sagemaker_arn(f"processing-job/{PIPELINE_JOB_PREFIX}*"),
            s.sagemaker_arn(f"training-job/{PIPELINE_JOB_PREFIX}*")]
    logs = f"arn:{s.partition}:logs:{s.region}:{s.account_id}:log-group:"
    return [
        {"Sid": "PullImage", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
         "Resource": s.image_repository_arn},
        {"Sid": "AuthenticateToEcr", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "WriteJobLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": [f"{logs}{group}:*" for group in SAGEMAKER_LOG_GROUPS]},
        {"Sid": "RunPipelineJobs", "Effect": "Allow",
         "Action": ["sagemaker:AddTags", "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob"],
         "Resource": jobs},
        {"Sid": "RegisterModelVersions", "Effect": "Allow",
         "Action": ["sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
                    "sagemaker:DescribeModelPackageGroup"],
         "Resource": [s.sagemaker_arn(f"model-package-group/{s.pipeline_name}"),
                      s.sagemaker_arn(f"model-package/{s.pipeline_name}/*")]},
        {"Sid": "PassRoleToJobs", "Effect": "Allow", "Action": "iam:PassRole", "Resource": s.role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
    ]


def _vpc_statements(s: TrainingScope) -> list[dict[str, Any]]:
    if not s.subnet_ids:
        return []
    ec2 = f"arn:{s.partition}:ec2:{s.region}:{s.account_id}"
    return [
        {"Sid": "DescribeNetwork", "Effect": "Allow", "Resource": "*",
         "Action": ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets", "ec2:DescribeVpcs"]},
        {"Sid": "AttachToVpc", "Effect": "Allow", "Action": "ec2:CreateNetworkInterface",
         "Resource": [f"{ec2}:network-interface/*",
                      *(f"{ec2}:subnet/{x}" for x in s.subnet_ids),
                      *(f"{ec2}:security-group/{x}" for x in s.security_group_ids)]},
        {"Sid": "ManageJobNetworkInterfaces", "Effect": "Allow", "Resource": f"{ec2}:network-interface/*",
         "Action": ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission"]},
    ]


def execution_role_policy(scope: TrainingScope) -> dict[str, Any]:
    """The pipeline's and its jobs' permissions: this model's data, code, key, image, logs and registry."""
    return policy(*_data_statements(scope), *_job_statements(scope), *_vpc_statements(scope))


def starter_role_policy(pipeline_arn: str, dead_letter_queue_arn: str, kms_key_arn: str) -> dict[str, Any]:
    """EventBridge Scheduler's role: start this pipeline; park undeliverable starts in the dead-letter queue."""
    return policy(
        {"Sid": "StartPipeline", "Effect": "Allow", "Action": "sagemaker:StartPipelineExecution",
         "Resource": pipeline_arn},
        {"Sid": "ParkFailedStarts", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dead_letter_queue_arn},
        {"Sid": "EncryptParkedStarts", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": kms_key_arn},
    )


def debouncer_role_policy(
    schedule_arn: str, starter_role_arn: str, log_group_arn: str, dead_letter_queue_arn: str, kms_key_arn: str
) -> dict[str, Any]:
    """The debounce function's role: keep its one schedule, hand it the starter role, log, park failures."""
    return policy(
        {"Sid": "KeepPendingSchedule", "Effect": "Allow", "Resource": schedule_arn,
         "Action": ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"]},
        {"Sid": "PassStarterRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": starter_role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}},
        {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:*"},
        {"Sid": "ParkFailedInvocations", "Effect": "Allow", "Action": "sqs:SendMessage",
         "Resource": dead_letter_queue_arn},
        {"Sid": "UseDataKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": kms_key_arn},
    )


def dead_letter_queue_policy(queue_arn: str, rule_arns: list[str]) -> dict[str, Any]:
    """Let EventBridge park events it could not deliver, for these rules only."""
    return policy({
        "Sid": "EventBridgeDeadLetters",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}},
    })


def model_package_group_policy(
    partition: str, group_arn: str, consumer_account_ids: list[str]
) -> dict[str, Any]:
    """Cross-account read of the registry: the consumer accounts may describe the group and describe/list
    its versions, nothing else (approval stays with this account)."""
    principals = {"AWS": [f"arn:{partition}:iam::{a}:root" for a in consumer_account_ids]}
    packages = group_arn.replace(":model-package-group/", ":model-package/") + "/*"
    return policy(
        {"Sid": "DescribeGroup", "Effect": "Allow", "Principal": principals,
         "Action": "sagemaker:DescribeModelPackageGroup", "Resource": group_arn},
        {"Sid": "ReadVersions", "Effect": "Allow", "Principal": principals,
         "Action": ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"], "Resource": packages},
    )
