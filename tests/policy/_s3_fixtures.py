"""A fully compliant bucket with every side resource, to drop or alter one piece per case."""

from __future__ import annotations

import json
from typing import Any

from ._kit import Res

BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/0000-1111"

TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b-1", "arn:aws:s3:::b-1/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def side_props(name: str) -> dict[str, dict[str, Any]]:
    """Inputs of each side resource of a compliant bucket, by role."""
    return {
        "pab": {"bucket": f"{name}-1", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
                "restrictPublicBuckets": True},
        "ownership": {"bucket": f"{name}-1", "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        "sse": {"bucket": f"{name}-1", "rules": [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}, "bucketKeyEnabled": True}]},
        "versioning": {"bucket": f"{name}-1", "versioningConfiguration": {"status": "Enabled"}},
        "policy": {"bucket": f"{name}-1", "policy": document(TLS_DENY)},
        "logging": {"bucket": f"{name}-1", "targetBucket": "central-access-logs", "targetPrefix": f"{name}/"},
        "lifecycle": {"bucket": f"{name}-1", "rules": [{"id": "hygiene", "status": "Enabled", "filter": {"prefix": ""},
                                                       "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
                                                       "noncurrentVersionExpiration": {"noncurrentDays": 30}}]},
        "notification": {"bucket": f"{name}-1", "eventbridge": True},
        "replication": {"bucket": f"{name}-1", "role": "arn:aws:iam::111111111111:role/repl",
                        "rules": [{"id": "crr", "status": "Enabled", "destination": {"bucket": "arn:aws:s3:::dr"}}]},
        "lock": {"bucket": f"{name}-1", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}},
    }


SIDE_TYPES = {
    "pab": PAB, "ownership": OWNERSHIP, "sse": SSE, "versioning": VERSIONING, "policy": POLICY, "logging": LOGGING,
    "lifecycle": LIFECYCLE, "notification": NOTIFICATION, "replication": REPLICATION, "lock": OBJECT_LOCK,
}


def bucket_set(
    name: str = "b",
    *,
    drop: tuple[str, ...] = (),
    change: dict[str, dict[str, Any]] | None = None,
    bucket_props: dict[str, Any] | None = None,
) -> tuple[Res, ...]:
    """The bucket and its side resources; `drop` removes roles, `change` overrides a role's inputs."""
    props = side_props(name)
    for role, override in (change or {}).items():
        props[role] = {**props[role], **override}
    bucket = Res(BUCKET, {"objectLockEnabled": True, **(bucket_props or {})}, name=name, protect=True)
    sides = tuple(
        Res(SIDE_TYPES[role], inputs, name=f"{name}-{role}", deps={"bucket": (name,)})
        for role, inputs in props.items()
        if role not in drop
    )
    return (bucket, *sides)
