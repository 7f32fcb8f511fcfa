"""Whole-stack plans: what each environment declares for the data lake, tags and protection."""

from __future__ import annotations

import pytest

from mlops.plan import Plan

from ._checks import assert_bucket_is_secure, buckets, key_arn
from .conftest import STACKS

STANDARD_TAGS = {"project", "environment", "owner", "cost-center"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_bucket_has_versioning_sse_public_access_block_and_tls_policy(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    data_key = key_arn(plan)
    lake_buckets = buckets(plan)
    assert len(lake_buckets) >= 5
    for bucket in lake_buckets:
        is_log_bucket = bucket.name.endswith("-access-logs")
        assert_bucket_is_secure(plan, bucket, None if is_log_bucket else data_key)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_production_like_stacks_protect_and_retain_stateful_resources(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    for resource in buckets(plan) + plan.of_type("aws:kms/key:Key"):
        assert resource.protect and resource.retain_on_delete, resource.urn


def test_dev_buckets_can_be_destroyed(plans: dict[str, Plan]) -> None:
    plan = plans["dev"]
    for bucket in buckets(plan):
        assert not bucket.protect and not bucket.retain_on_delete
        assert bucket.inputs["forceDestroy"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_gets_the_standard_tags_through_the_provider(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    providers = plan.of_type("pulumi:providers:aws")
    assert len(providers) == 1
    (provider,) = providers
    tags = provider.inputs["defaultTags"]["tags"]
    assert set(tags) >= STANDARD_TAGS
    assert tags["environment"] == stack
    assert all(tags[k] for k in STANDARD_TAGS)
    for resource in plan.resources:
        if resource.custom and resource.type.startswith("aws:"):
            assert resource.provider == provider.urn, f"{resource.urn} does not use the tagged provider"


@pytest.mark.parametrize(("stack", "account"), [("dev", "111111111111"), ("staging", "222222222222"),
                                                 ("prod", "333333333333")])
def test_provider_refuses_other_accounts(plans: dict[str, Plan], stack: str, account: str) -> None:
    (provider,) = plans[stack].of_type("pulumi:providers:aws")
    assert provider.inputs["allowedAccountIds"] == [account]
    assert plans[stack].outputs["accountId"] == account


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_name_the_buckets_and_key(plans: dict[str, Plan], stack: str) -> None:
    outputs = plans[stack].outputs
    assert outputs["environment"] == stack
    assert set(outputs["buckets"]) >= {"raw", "curated", "artifacts", "capture", "access-logs"}
    assert all(name.startswith(f"mlops-{stack}-") for name in outputs["buckets"].values())
    assert outputs["dataKeyArn"] == key_arn(plans[stack])
