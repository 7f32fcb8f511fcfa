"""The DataLake component on its own, under the recording mocks: every security property of every bucket."""

from __future__ import annotations

import json

import pytest

from components import DATA_BUCKETS, DataLake, DataLakeArgs
from mlops.plan import Plan, run_program

from ._checks import BUCKET, LIFECYCLE, LOGGING, assert_bucket_is_secure, buckets, key_arn, only, side_resources

CONFIG = {"aws:region": "eu-west-1", "mlops:accountId": "444455556666"}


def _lake_plan(**overrides: object) -> Plan:
    def program() -> None:
        DataLake("lake", DataLakeArgs(account_id="444455556666", region="eu-west-1", **overrides))

    return run_program(program, "mlops", "unit", CONFIG)


@pytest.fixture(scope="module")
def lake() -> Plan:
    return _lake_plan()


@pytest.fixture(scope="module")
def protected_lake() -> Plan:
    return _lake_plan(protect=True, raw_glacier_days=180)


def test_five_buckets_with_stable_names(lake: Plan) -> None:
    assert sorted(b.name for b in buckets(lake)) == sorted(
        [f"lake-{role}" for role in DATA_BUCKETS] + ["lake-access-logs"]
    )


def test_every_bucket_is_private_encrypted_versioned_tls_only_and_tidied(lake: Plan) -> None:
    data_key = key_arn(lake)
    assert data_key.startswith("arn:aws:kms:eu-west-1:444455556666:key/")
    for bucket in buckets(lake):
        assert_bucket_is_secure(lake, bucket, None if bucket.name == "lake-access-logs" else data_key)


def test_data_buckets_log_to_the_access_log_bucket(lake: Plan) -> None:
    (log_bucket,) = [b for b in buckets(lake) if b.name == "lake-access-logs"]
    for bucket in buckets(lake):
        found = side_resources(lake, bucket)
        if bucket is log_bucket:
            assert LOGGING not in found  # a log bucket logging into itself would loop
            continue
        logging = only(found, LOGGING, bucket)
        assert log_bucket.urn in logging.property_dependencies["targetBucket"]
        assert logging.inputs["targetPrefix"] == f"{bucket.name}/"


def test_log_bucket_admits_only_this_accounts_log_delivery(lake: Plan) -> None:
    (log_bucket,) = [b for b in buckets(lake) if b.name == "lake-access-logs"]
    policy = json.loads(only(side_resources(lake, log_bucket), "aws:s3/bucketPolicy:BucketPolicy", log_bucket)
                        .inputs["policy"])
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": "444455556666"}
    assert sorted(allow["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(
        f"arn:aws:s3:::lake-{role}-*" for role in DATA_BUCKETS
    )


def test_raw_bucket_tiers_and_notifies_eventbridge(protected_lake: Plan) -> None:
    (raw,) = [b for b in buckets(protected_lake) if b.name == "lake-raw"]
    found = side_resources(protected_lake, raw)
    transitions = only(found, LIFECYCLE, raw).inputs["rules"][0]["transitions"]
    assert transitions == [
        {"days": 30, "storageClass": "INTELLIGENT_TIERING"},
        {"days": 180, "storageClass": "GLACIER_IR"},
    ]
    notification = only(found, "aws:s3/bucketNotification:BucketNotification", raw)
    assert notification.inputs["eventbridge"] is True
    others = [b for b in buckets(protected_lake) if b is not raw]
    assert all("aws:s3/bucketNotification:BucketNotification" not in side_resources(protected_lake, b)
               for b in others)


def test_key_rotates_and_has_an_explicit_policy_without_public_principals(lake: Plan) -> None:
    (key,) = lake.of_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    document = json.loads(key.inputs["policy"])
    principals = [s["Principal"] for s in document["Statement"]]
    assert "*" not in principals and {"AWS": "*"} not in principals
    assert document["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::444455556666:root"}


def test_unprotected_lake_can_be_destroyed(lake: Plan) -> None:
    assert not any(r.protect or r.retain_on_delete for r in lake.resources)


def test_protected_lake_protects_and_retains_every_bucket_and_the_key(protected_lake: Plan) -> None:
    for resource in buckets(protected_lake) + protected_lake.of_type("aws:kms/key:Key"):
        assert resource.protect, resource.name
        assert resource.retain_on_delete, resource.name
    for resource in protected_lake.resources:
        if resource.custom and resource.parent and "SecureBucket" in resource.urn:
            assert resource.protect, resource.name  # side resources inherit protect from the component


def test_children_are_parented_to_their_component(lake: Plan) -> None:
    by_urn = lake.by_urn()
    for resource in lake.resources:
        if resource.type == BUCKET:
            assert by_urn[resource.parent].type == "mlops:data:SecureBucket"
        if resource.type == "mlops:data:SecureBucket":
            assert by_urn[resource.parent].type == "mlops:data:DataLake"


def test_force_destroy_follows_the_args() -> None:
    plan = _lake_plan(force_destroy=True)
    assert all(b.inputs["forceDestroy"] is True for b in buckets(plan))



def test_reader_accounts_may_read_artifacts_and_decrypt_them_only_through_s3() -> None:
    plan = _lake_plan(artifact_reader_account_ids=["222222222222", "333333333333"])
    roots = ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]
    for bucket in buckets(plan):
        document = json.loads(only(side_resources(plan, bucket), "aws:s3/bucketPolicy:BucketPolicy", bucket)
                              .inputs["policy"])
        reads = [s for s in document["Statement"] if s.get("Sid") == "AllowConsumerAccountsToReadObjects"]
        if bucket.name == "lake-artifacts":
            assert reads == [{"Sid": "AllowConsumerAccountsToReadObjects", "Effect": "Allow",
                              "Principal": {"AWS": roots}, "Action": "s3:GetObject",
                              "Resource": document["Statement"][0]["Resource"][1]}]
        else:
            assert reads == [], bucket.name
    (key,) = plan.of_type("aws:kms/key:Key")
    (decrypt,) = [s for s in json.loads(key.inputs["policy"])["Statement"]
                  if s["Sid"] == "AllowConsumerAccountsToDecryptThroughS3"]
    assert decrypt["Principal"] == {"AWS": roots}
    assert decrypt["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def test_no_reader_accounts_means_no_cross_account_statement(lake: Plan) -> None:
    (key,) = lake.of_type("aws:kms/key:Key")
    assert all(s["Sid"] != "AllowConsumerAccountsToDecryptThroughS3"
               for s in json.loads(key.inputs["policy"])["Statement"])
