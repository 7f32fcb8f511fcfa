"""Pure IAM / resource policy documents of the serving components (table-tested in tests/endpoint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._policy_documents import policy

# The namespace SageMaker hosting publishes instance metrics to with the execution role's credentials.
ENDPOINT_METRICS_NAMESPACE = "/aws/sagemaker/Endpoints"


@dataclass(frozen=True)
class ExecutionRoleScope:
    """Everything a model's execution role may touch, as resolved ARNs."""

    account_id: str
    region: str
    endpoint_name: str
    image_repository_arn: str
    """ECR repository the serving image is pulled from (possibly another account's registry)."""
    artifact_object_arns: list[str]
    """S3 objects (or ARN patterns) holding the model artifact."""
    artifact_key_arns: list[str]
    """KMS keys (or ARN patterns) that decrypt those objects."""
    capture_prefix_arn: str | None = None
    """`arn:aws:s3:::<bucket>/<prefix>` data capture writes under; None when capture is off."""
    capture_key_arn: str | None = None
    """Key data capture encrypts with (with capture_prefix_arn)."""
    subnet_arns: list[str] = field(default_factory=list)
    """Subnets the model's network interfaces go in; empty when the model runs outside a VPC."""
    security_group_arns: list[str] = field(default_factory=list)
    """Security groups of those interfaces."""
    partition: str = "aws"


def sagemaker_assume_role_policy(account_id: str) -> dict[str, Any]:
    """Trust policy: only SageMaker, and only on behalf of this account (confused-deputy guard)."""
    return policy(
        {
            "Sid": "SageMakerAssumesRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def _via_s3(region: str) -> dict[str, Any]:
    # Keys are usable only through S3 in this region, never directly.
    return {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def model_execution_policy(scope: ExecutionRoleScope) -> dict[str, Any]:
    """What hosting needs and nothing more: pull the image, read the artifact, write logs and metrics, and
    (optionally) write data capture and manage network interfaces in the given subnets."""
    p, region, account = scope.partition, scope.region, scope.account_id
    log_group = f"arn:{p}:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/{scope.endpoint_name}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PullServingImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": [scope.image_repository_arn],
        },
        # GetAuthorizationToken has no resource-level permissions; it only yields a registry login.
        {"Sid": "LogInToRegistry", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "ReadModelArtifact", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": list(scope.artifact_object_arns)},
        {"Sid": "DecryptModelArtifact", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": list(scope.artifact_key_arns), "Condition": _via_s3(region)},
        {
            "Sid": "WriteEndpointLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:*"],
        },
        {
            "Sid": "PublishEndpointMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",  # PutMetricData has no resources; the namespace condition scopes it
            "Condition": {"StringEquals": {"cloudwatch:namespace": ENDPOINT_METRICS_NAMESPACE}},
        },
    ]
    if scope.capture_prefix_arn is not None:
        statements += [
            {"Sid": "WriteDataCapture", "Effect": "Allow", "Action": "s3:PutObject",
             "Resource": f"{scope.capture_prefix_arn}/*"},
            {"Sid": "EncryptDataCapture", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": [scope.capture_key_arn], "Condition": _via_s3(region)},
        ]
    if scope.subnet_arns:
        statements += _vpc_statements(scope)
    return policy(*statements)


def _vpc_statements(scope: ExecutionRoleScope) -> list[dict[str, Any]]:
    interfaces = f"arn:{scope.partition}:ec2:{scope.region}:{scope.account_id}:network-interface/*"
    return [
        {
            "Sid": "CreateInterfacesInGivenSubnets",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterface",
            "Resource": [*scope.subnet_arns, *scope.security_group_arns, interfaces],
        },
        {
            "Sid": "ManageOwnInterfaces",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                       "ec2:DeleteNetworkInterfacePermission"],
            "Resource": interfaces,
        },
        {
            # Describe* calls support no resource-level permissions.
            "Sid": "DescribeNetwork",
            "Effect": "Allow",
            "Action": ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                       "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
            "Resource": "*",
        },
    ]


def alarm_topic_policy(topic_arn: str, account_id: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """Topic policy: CloudWatch alarms of this account may publish; nobody else gets anything (same-account
    principals are governed by their IAM policies)."""
    return policy(
        {
            "Sid": "AllowThisAccountsAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"},
            },
        }
    )
