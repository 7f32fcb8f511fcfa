"""Assertions of the data lake's security properties, shared by the component and the whole-stack tests."""

from __future__ import annotations

import json

from mlops.plan import Plan, RecordedResource

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"


def side_resources(plan: Plan, bucket: RecordedResource) -> dict[str, list[RecordedResource]]:
    """The bucket's side resources by type token: the resources whose `bucket` input comes from it."""
    found: dict[str, list[RecordedResource]] = {}
    for r in plan.resources:
        if r.custom and r is not bucket and bucket.urn in r.property_dependencies.get("bucket", []):
            found.setdefault(r.type, []).append(r)
    return found


def only(found: dict[str, list[RecordedResource]], type_token: str, bucket: RecordedResource) -> RecordedResource:
    matches = found.get(type_token, [])
    assert len(matches) == 1, f"{bucket.name}: expected one {type_token}, found {len(matches)}"
    return matches[0]


def assert_bucket_is_secure(plan: Plan, bucket: RecordedResource, key_arn: str | None) -> None:
    """Every protection of a data-lake bucket, checked on the connected side resources."""
    found = side_resources(plan, bucket)
    assert bucket.inputs.get("forceDestroy") in (False, True)

    versioning = only(found, VERSIONING, bucket)
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"

    rule = only(found, SSE, bucket).inputs["rules"][0]
    by_default = rule["applyServerSideEncryptionByDefault"]
    if key_arn is None:  # the access-log bucket: S3 log delivery supports SSE-S3 only
        assert by_default == {"sseAlgorithm": "AES256"}
    else:
        assert by_default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
        assert rule["bucketKeyEnabled"] is True

    pab = only(found, PAB, bucket).inputs
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert pab[flag] is True, f"{bucket.name}: {flag} is not true"

    ownership = only(found, OWNERSHIP, bucket).inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"

    document = json.loads(only(found, POLICY, bucket).inputs["policy"])
    deny = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    assert len(deny) == 1
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Action"] == "s3:*" and deny[0]["Principal"] == "*"
    assert len(deny[0]["Resource"]) == 2 and deny[0]["Resource"][1] == deny[0]["Resource"][0] + "/*"
    assert all(s.get("Principal") != "*" for s in document["Statement"] if s["Effect"] == "Allow")

    rules = only(found, LIFECYCLE, bucket).inputs["rules"]
    hygiene = next(r for r in rules if r["id"] == "hygiene")
    assert hygiene["status"] == "Enabled"
    assert hygiene["noncurrentVersionExpiration"]["noncurrentDays"] >= 1
    assert hygiene["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1


def buckets(plan: Plan) -> list[RecordedResource]:
    return plan.of_type(BUCKET)


def key_arn(plan: Plan) -> str:
    (key,) = [r for r in plan.resources if r.type == "aws:kms/key:Key" and r.name.endswith("-key")]
    # The SSE configurations reference the key's ARN; find it through any KMS-encrypted bucket.
    for r in plan.of_type(SSE):
        by_default = r.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        if key.urn in r.property_dependencies.get("rules", []):
            return by_default["kmsMasterKeyId"]
    raise AssertionError("no bucket is encrypted with the data key")
