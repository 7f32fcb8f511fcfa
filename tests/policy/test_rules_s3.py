"""S3 rules: one compliant and at least one violating minimal stack each."""

from __future__ import annotations

import pytest

from ._kit import Case, Res, assert_case, bad, ok
from ._s3_fixtures import (
    BUCKET,
    KEY_ARN,
    LIFECYCLE,
    PAB,
    POLICY,
    SSE,
    TLS_DENY,
    VERSIONING,
    bucket_set,
    document,
)

ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
ACL = "aws:s3/bucketAcl:BucketAcl"
ALL_FLAGS = {
    "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True
}
PUBLIC_READ = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
               "Resource": "arn:aws:s3:::b-1/*"}

CASES: list[Case] = [
    ok("s3-account-public-access-block", "all four flags", Res(ACCOUNT_PAB, ALL_FLAGS)),
    bad("s3-account-public-access-block", "policy block off",
        Res(ACCOUNT_PAB, {**ALL_FLAGS, "blockPublicPolicy": False}), expect="blockPublicPolicy"),
    ok("s3-public-access-block-all-flags", "all four flags", Res(PAB, {"bucket": "b", **ALL_FLAGS})),
    bad("s3-public-access-block-all-flags", "flag unset", Res(PAB, {"bucket": "b", "blockPublicAcls": True}),
        expect="ignorePublicAcls"),
    ok("s3-bucket-has-public-access-block", "connected", *bucket_set()),
    ok("s3-bucket-has-public-access-block", "joined by literal name, no property dependency",
       Res(BUCKET, {"bucket": "named"}, name="b"), Res(PAB, {"bucket": "named", **ALL_FLAGS}, name="p")),
    bad("s3-bucket-has-public-access-block", "none", *bucket_set(drop=("pab",)), expect="no BucketPublicAccessBlock"),
    bad("s3-bucket-has-public-access-block", "block of another bucket",
        Res(BUCKET, {}, name="b"), Res(BUCKET, {}, name="other"),
        Res(PAB, {"bucket": "o", **ALL_FLAGS}, name="p", deps={"bucket": ("other",)}), expect="bucket b has no"),
    ok("s3-bucket-acls-disabled", "owner enforced", *bucket_set()),
    bad("s3-bucket-acls-disabled", "object writer", *bucket_set(change={"ownership": {"rule": {
        "objectOwnership": "ObjectWriter"}}}), expect="ACLs stay enabled"),
    bad("s3-bucket-acls-disabled", "no ownership controls", *bucket_set(drop=("ownership",))),
    ok("s3-no-public-acl", "private acl", Res(ACL, {"bucket": "b", "acl": "private"})),
    bad("s3-no-public-acl", "public-read canned acl", Res(ACL, {"bucket": "b", "acl": "public-read"}),
        expect="public-read"),
    bad("s3-no-public-acl", "AllUsers grant", Res(ACL, {"bucket": "b", "accessControlPolicy": {"grants": [
        {"grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"},
         "permission": "READ"}], "owner": {"id": "o"}}}), expect="AllUsers"),
    bad("s3-no-public-acl", "deprecated inline acl on the bucket", Res(BUCKET, {"acl": "public-read-write"})),
    ok("s3-bucket-encrypted-kms", "SSE-KMS with a CMK", *bucket_set()),
    ok("s3-bucket-encrypted-kms", "deprecated inline SSE-KMS", Res(BUCKET, {"serverSideEncryptionConfiguration": {
        "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}}}})),
    ok("s3-bucket-encrypted-kms", "key ARN not known yet (preview)", *bucket_set(change={"sse": {"rules": [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "[unknown]"}}]}})),
    bad("s3-bucket-encrypted-kms", "no encryption resource", *bucket_set(drop=("sse",)),
        expect="no default encryption"),
    bad("s3-bucket-encrypted-kms", "SSE-S3", *bucket_set(change={"sse": {"rules": [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}}), expect="AES256"),
    bad("s3-bucket-encrypted-kms", "AWS-managed key", *bucket_set(change={"sse": {"rules": [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]}}), expect="AWS-managed"),
    ok("s3-bucket-key-enabled", "bucket key on", Res(SSE, {"rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}, "bucketKeyEnabled": True}]})),
    ok("s3-bucket-key-enabled", "SSE-S3 needs no bucket key", Res(SSE, {"rules": [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": False}]})),
    bad("s3-bucket-key-enabled", "bucket key off", Res(SSE, {"rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}, "bucketKeyEnabled": False}]}), expect="bucket key"),
    ok("s3-bucket-versioning", "enabled", *bucket_set()),
    bad("s3-bucket-versioning", "suspended", *bucket_set(change={"versioning": {"versioningConfiguration": {
        "status": "Suspended"}}})),
    bad("s3-bucket-versioning", "missing", *bucket_set(drop=("versioning",)), expect="status Enabled"),
    ok("s3-bucket-tls-only", "deny statement", *bucket_set()),
    bad("s3-bucket-tls-only", "no policy", *bucket_set(drop=("policy",)), expect="aws:SecureTransport"),
    bad("s3-bucket-tls-only", "policy without the deny", *bucket_set(change={"policy": {"policy": document(
        {**TLS_DENY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}})}})),
    ok("s3-bucket-policy-not-public", "TLS deny only", Res(POLICY, {"bucket": "b", "policy": document(TLS_DENY)})),
    ok("s3-bucket-policy-not-public", "public principal narrowed by a condition", Res(POLICY, {
        "bucket": "b", "policy": document({**PUBLIC_READ, "Condition": {"StringEquals": {
            "aws:PrincipalOrgID": "o-123"}}})})),
    bad("s3-bucket-policy-not-public", "public read", Res(POLICY, {"bucket": "b", "policy": document(PUBLIC_READ)}),
        expect="Principal '*'"),
    bad("s3-bucket-policy-not-public", "AWS '*' principal", Res(POLICY, {"bucket": "b", "policy": document(
        {**PUBLIC_READ, "Principal": {"AWS": "*"}})})),
    ok("s3-bucket-access-logging", "logs to another bucket", *bucket_set()),
    bad("s3-bucket-access-logging", "no logging", *bucket_set(drop=("logging",)), expect="no BucketLogging"),
    bad("s3-bucket-access-logging", "logs into itself", Res(BUCKET, {}, name="b"),
        Res("aws:s3/bucketLogging:BucketLogging", {"bucket": "b-1", "targetBucket": "b-1"}, name="l",
            deps={"bucket": ("b",), "targetBucket": ("b",)}), expect="into itself"),
    ok("s3-bucket-has-lifecycle", "enabled rule", *bucket_set()),
    bad("s3-bucket-has-lifecycle", "no lifecycle", *bucket_set(drop=("lifecycle",))),
    bad("s3-bucket-has-lifecycle", "only disabled rules", *bucket_set(change={"lifecycle": {"rules": [
        {"id": "x", "status": "Disabled", "expiration": {"days": 1}}]}}), expect="no enabled lifecycle"),
    ok("s3-versioned-bucket-expires-noncurrent", "noncurrent expiration", *bucket_set()),
    ok("s3-versioned-bucket-expires-noncurrent", "unversioned bucket needs none", *bucket_set(
        drop=("versioning", "lifecycle"))),
    bad("s3-versioned-bucket-expires-noncurrent", "versioned, never expires", *bucket_set(change={"lifecycle": {
        "rules": [{"id": "x", "status": "Enabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]}}),
        expect="never expires"),
    ok("s3-lifecycle-aborts-incomplete-uploads", "unfiltered abort rule", Res(LIFECYCLE, {"bucket": "b", "rules": [
        {"id": "h", "status": "Enabled", "filter": {},
         "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]})),
    bad("s3-lifecycle-aborts-incomplete-uploads", "abort only under a prefix", Res(LIFECYCLE, {"bucket": "b", "rules": [
        {"id": "h", "status": "Enabled", "filter": {"prefix": "tmp/"},
         "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]}), expect="aborts incomplete"),
    bad("s3-lifecycle-aborts-incomplete-uploads", "no abort", Res(LIFECYCLE, {"bucket": "b", "rules": [
        {"id": "h", "status": "Enabled", "expiration": {"days": 30}}]})),
    ok("s3-bucket-no-force-destroy", "off in prod", Res(BUCKET, {"forceDestroy": False})),
    ok("s3-bucket-no-force-destroy", "dev may force-destroy (rule off in dev)", Res(BUCKET, {"forceDestroy": True}),
       env="dev"),
    bad("s3-bucket-no-force-destroy", "on in staging", Res(BUCKET, {"forceDestroy": True}), env="staging",
        expect="staging"),
    ok("s3-bucket-event-notifications", "eventbridge", *bucket_set()),
    bad("s3-bucket-event-notifications", "none", *bucket_set(drop=("notification",))),
    ok("s3-prod-bucket-replication", "enabled rule", *bucket_set()),
    ok("s3-prod-bucket-replication", "not asked for in staging", *bucket_set(drop=("replication",)), env="staging"),
    bad("s3-prod-bucket-replication", "no replication in prod", *bucket_set(drop=("replication",))),
    ok("s3-prod-bucket-object-lock", "lock with retention", *bucket_set()),
    bad("s3-prod-bucket-object-lock", "object lock not enabled on the bucket", *bucket_set(
        bucket_props={"objectLockEnabled": False})),
    bad("s3-prod-bucket-object-lock", "no lock configuration", *bucket_set(drop=("lock",))),
]

# A bucket that only satisfies the rule through v7's deprecated inline inputs still counts.
CASES += [
    ok("s3-bucket-versioning", "deprecated inline versioning", Res(BUCKET, {"versioning": {"enabled": True}})),
    bad("s3-bucket-versioning", "versioning of another type only", Res(BUCKET, {}),
        Res(VERSIONING, {"bucket": "x", "versioningConfiguration": {"status": "Enabled"}}, name="v")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_s3_rule(case: Case) -> None:
    assert_case(case)
