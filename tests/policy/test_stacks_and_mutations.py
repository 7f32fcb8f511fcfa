"""The real stacks pass the pack, and breaking a known-good plan is caught by the rule named for the break."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from policy.offline import check_plan

from .conftest import STACKS

Plan = dict[str, Any]


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_the_pack(stack_plans: dict[str, Plan], stack: str) -> None:
    report = check_plan(stack_plans[stack], stack)
    assert report.environment == stack
    assert report.errors == []
    assert report.mandatory == [], "\n".join(f"{v.rule}: {v.urn}: {v.message}" for v in report.mandatory)
    assert report.passed


@pytest.mark.parametrize("stack", STACKS)
def test_the_access_log_bucket_waivers_are_listed_with_reasons(stack_plans: dict[str, Plan], stack: str) -> None:
    report = check_plan(stack_plans[stack], stack)
    waived = {(w.rule, w.urn.rsplit("::", 1)[-1]) for w in report.waived}
    assert {
        ("s3-bucket-encrypted-kms", f"mlops-{stack}-access-logs"),
        ("s3-bucket-access-logging", f"mlops-{stack}-access-logs"),
    } <= waived
    # Other components may waive rules too (e.g. what serverless endpoints cannot do); each must say why.
    assert all(w.reason.strip() for w in report.waived)


def find(plan: Plan, type_token: str, name: str) -> dict[str, Any]:
    matches = [r for r in plan["resources"] if r["type"] == type_token and r["name"] == name]
    assert len(matches) == 1, f"{type_token} {name}: {len(matches)} matches"
    return matches[0]


def remove(plan: Plan, type_token: str, name: str) -> str:
    """Drop a resource; returns the URN of the bucket it belonged to (its `bucket` property dependency)."""
    entry = find(plan, type_token, name)
    plan["resources"].remove(entry)
    return entry["propertyDependencies"]["bucket"][0]


BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
KEY = "aws:kms/key:Key"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SEEDED_POLICY_URN = "urn:pulumi:prod::mlops::aws:iam/rolePolicy:RolePolicy::mutation-seed"


def seed_role_policy(plan: Plan) -> dict[str, Any]:
    """A least-privilege role policy added to the plan, so the IAM mutation has a known-good document to widen."""
    provider = find(plan, "pulumi:providers:aws", "aws")["urn"]
    entry = {
        "urn": SEEDED_POLICY_URN, "type": ROLE_POLICY, "name": "mutation-seed", "parent": None, "custom": True,
        "inputs": {"role": "mlops-prod-training", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::mlops-prod-raw-1/*"]}]})},
        "dependencies": [], "protect": False, "retainOnDelete": False, "provider": provider,
        "propertyDependencies": {},
    }
    plan["resources"].append(entry)
    return entry


def drop_encryption(plan: Plan) -> str:
    return remove(plan, SSE, "mlops-prod-raw-encryption")


def open_public_access_block(plan: Plan) -> str:
    entry = find(plan, PAB, "mlops-prod-curated-public-access-block")
    entry["inputs"]["blockPublicPolicy"] = False
    entry["inputs"]["restrictPublicBuckets"] = False
    return entry["urn"]


def drop_public_access_block(plan: Plan) -> str:
    return remove(plan, PAB, "mlops-prod-artifacts-public-access-block")


def allow_everyone_in_bucket_policy(plan: Plan) -> str:
    entry = find(plan, POLICY, "mlops-prod-capture-policy")
    document = json.loads(entry["inputs"]["policy"])
    document["Statement"].append({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                  "Resource": "arn:aws:s3:::mlops-prod-capture-1/*"})
    entry["inputs"]["policy"] = json.dumps(document)
    return entry["urn"]


def drop_tls_only_policy(plan: Plan) -> str:
    return remove(plan, POLICY, "mlops-prod-raw-policy")


def suspend_versioning(plan: Plan) -> str:
    entry = find(plan, VERSIONING, "mlops-prod-raw-versioning")
    entry["inputs"]["versioningConfiguration"]["status"] = "Suspended"
    return entry["propertyDependencies"]["bucket"][0]


def widen_iam_action(plan: Plan) -> str:
    entry = seed_role_policy(plan)
    document = json.loads(entry["inputs"]["policy"])
    document["Statement"][0]["Action"] = "*"
    entry["inputs"]["policy"] = json.dumps(document)
    return entry["urn"]


def widen_iam_resource(plan: Plan) -> str:
    entry = seed_role_policy(plan)
    document = json.loads(entry["inputs"]["policy"])
    document["Statement"][0]["Resource"] = "*"
    entry["inputs"]["policy"] = json.dumps(document)
    return entry["urn"]


def unprotect_key(plan: Plan) -> str:
    entry = find(plan, KEY, "mlops-prod-key")
    entry["protect"] = False
    return entry["urn"]


def unprotect_bucket(plan: Plan) -> str:
    entry = find(plan, BUCKET, "mlops-prod-raw")
    entry["protect"] = False
    return entry["urn"]


def stop_key_rotation(plan: Plan) -> str:
    entry = find(plan, KEY, "mlops-prod-key")
    entry["inputs"]["enableKeyRotation"] = False
    return entry["urn"]


def force_destroy_bucket(plan: Plan) -> str:
    entry = find(plan, BUCKET, "mlops-prod-curated")
    entry["inputs"]["forceDestroy"] = True
    return entry["urn"]


def drop_default_tags(plan: Plan) -> str:
    find(plan, "pulumi:providers:aws", "aws")["inputs"].pop("defaultTags")
    return find(plan, KEY, "mlops-prod-key")["urn"]


MUTATIONS: list[tuple[str, Callable[[Plan], str], str]] = [
    ("drop encryption", drop_encryption, "s3-bucket-encrypted-kms"),
    ("open a bucket: public access block off", open_public_access_block, "s3-public-access-block-all-flags"),
    ("open a bucket: no public access block", drop_public_access_block, "s3-bucket-has-public-access-block"),
    ("open a bucket: policy allows everyone", allow_everyone_in_bucket_policy, "s3-bucket-policy-not-public"),
    ("drop the TLS-only policy", drop_tls_only_policy, "s3-bucket-tls-only"),
    ("suspend versioning", suspend_versioning, "s3-bucket-versioning"),
    ("widen an IAM action to *", widen_iam_action, "iam-no-wildcard-actions"),
    ("widen an IAM resource to *", widen_iam_resource, "iam-no-wildcard-resource"),
    ("drop protect on the prod key", unprotect_key, "stateful-resources-protected"),
    ("drop protect on a prod bucket", unprotect_bucket, "stateful-resources-protected"),
    ("stop key rotation", stop_key_rotation, "kms-key-rotation"),
    ("force-destroy a prod bucket", force_destroy_bucket, "s3-bucket-no-force-destroy"),
    ("drop the provider's default tags", drop_default_tags, "aws-required-tags"),
]


@pytest.mark.parametrize(("label", "mutate", "rule"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_mutation_of_the_prod_plan_is_caught_by_its_rule(
    stack_plans: dict[str, Plan], label: str, mutate: Callable[[Plan], str], rule: str
) -> None:
    plan = copy.deepcopy(stack_plans["prod"])
    urn = mutate(plan)
    before = check_plan(stack_plans["prod"], "prod")
    after = check_plan(plan, "prod")
    assert [v for v in before.violations if v.rule == rule] == [], f"{rule} already fails on the unmutated plan"
    caught = [v for v in after.mandatory if v.rule == rule and v.urn == urn]
    assert caught, f"{label}: {rule} did not report {urn}; got {[(v.rule, v.urn) for v in after.violations]}"
    assert not after.passed
