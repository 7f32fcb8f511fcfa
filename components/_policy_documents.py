"""Pure helpers that build IAM / resource policy documents as plain dicts (table-tested in tests/unit)."""

from __future__ import annotations

from typing import Any


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """Statement denying every request that does not use TLS (Security Hub S3.5)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def allow_access_log_delivery(bucket_arn: str, account_id: str, source_bucket_arns: list[str]) -> dict[str, Any]:
    """Statement letting the S3 logging service write server access logs, only from this account's buckets."""
    return {
        "Sid": "AllowS3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": source_bucket_arns},
        },
    }


def allow_cross_account_object_reads(bucket_arn: str, account_ids: list[str]) -> dict[str, Any]:
    """Statement letting other accounts (staging, prod) read objects, e.g. the model artifacts of versions
    registered here; those accounts still need IAM permissions of their own (their execution roles)."""
    return {
        "Sid": "AllowConsumerAccountsToReadObjects",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in account_ids]},
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/*",
    }


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    """A policy document from statements."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def kms_key_policy(
    account_id: str, region: str, reader_account_ids: list[str] | None = None, partition: str = "aws"
) -> dict[str, Any]:
    """Key policy for the data key: the account administers it through IAM (no `*` principal), and the
    services that encrypt with it on the stack's behalf (S3 via callers, CloudWatch Logs, SNS for alarms)
    may use it only from this account. Reader accounts (staging, prod serving versions registered here) may
    decrypt, only through S3, what they are allowed to read."""
    root = f"arn:{partition}:iam::{account_id}:root"
    readers = [
        {
            "Sid": "AllowConsumerAccountsToDecryptThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:{partition}:iam::{a}:root" for a in reader_account_ids]},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        }
    ] if reader_account_ids else []
    return policy(
        {
            "Sid": "EnableIamPolicies",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AllowCloudWatchLogs",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"}
            },
        },
        {
            "Sid": "AllowAlarmNotifications",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        *readers,
    )
