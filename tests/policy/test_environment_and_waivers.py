"""How rules learn their environment, how waivers work, and how the offline runner mirrors the analyzer."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import unknown_checking_proxy

import components.secure_bucket as secure_bucket
from components import SecureBucket, SecureBucketArgs
from mlops.plan import PlanError, run_program
from policy import WAIVER_TAG_PREFIX, rule_named, startup_environment, waiver_problems, waiver_tags
from policy._environment import resource_environment, stack_environment
from policy.offline import build_resources, check_plan

from ._kit import NO_PROVIDER, Res, plan_of, run_rule
from ._s3_fixtures import BUCKET, bucket_set

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def provider(env: str | None, as_json_text: bool = False) -> PolicyProviderResource:
    tags = {"tags": {"environment": env}} if env else {"tags": {}}
    props = {"defaultTags": json.dumps(tags) if as_json_text else tags}
    return PolicyProviderResource("pulumi:providers:aws", unknown_checking_proxy(props), "urn:p", "aws")


def resource_args(config: dict[str, str] | None = None, stack_tags: dict[str, str] | None = None,
                  env_tag: str | None = None, as_json_text: bool = False) -> ResourceValidationArgs:
    return ResourceValidationArgs(BUCKET, unknown_checking_proxy({}), "urn:b", "b", OPTS,
                                  provider(env_tag, as_json_text), config, stack_tags)


@pytest.mark.parametrize(
    ("config", "stack_tags", "env_tag", "fallback", "expected"),
    [
        ({"environment": "dev"}, {"environment": "staging"}, "prod", "prod", "dev"),
        ({}, {"environment": "staging"}, "dev", "prod", "staging"),
        ({}, {}, "dev", "prod", "dev"),
        ({}, {}, None, "staging", "staging"),
        ({}, {}, None, None, "prod"),
        ({"environment": "qa"}, {}, None, None, "prod"),
    ],
    ids=["config", "stack-tag", "provider-tag", "startup-config", "default-strictest", "unknown-name"],
)
def test_resource_environment_precedence(
    config: dict[str, str], stack_tags: dict[str, str], env_tag: str | None, fallback: str | None, expected: str
) -> None:
    assert resource_environment(resource_args(config, stack_tags, env_tag), fallback) == expected


def test_provider_tags_arrive_as_json_text_under_the_engine() -> None:
    assert resource_environment(resource_args(env_tag="staging", as_json_text=True), None) == "staging"


def test_stack_environment_needs_the_providers_to_agree() -> None:
    def aws(env: str) -> PolicyResource:
        props = unknown_checking_proxy({"defaultTags": {"tags": {"environment": env}}})
        return PolicyResource("pulumi:providers:aws", props, f"urn:{env}", env, OPTS, None, None, [], {})

    assert stack_environment(StackValidationArgs([aws("dev")]), None) == "dev"
    assert stack_environment(StackValidationArgs([aws("dev"), aws("prod")]), "dev") == "dev"
    assert stack_environment(StackValidationArgs([aws("dev"), aws("prod")]), None) == "prod"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"PULUMI_CONFIG": json.dumps({"mlops:environment": "dev"})}, "dev"),
        ({"PULUMI_CONFIG": json.dumps({"shop:environment": "staging"}), "PULUMI_PROJECT": "shop"}, "staging"),
        ({"PULUMI_CONFIG": json.dumps({"mlops:environment": "qa"})}, None),
        ({"PULUMI_CONFIG": "not json"}, None),
        ({}, None),
    ],
)
def test_startup_environment_reads_the_stack_config_the_cli_passes(
    environ: dict[str, str], expected: str | None
) -> None:
    assert startup_environment(environ) == expected


def test_a_rule_off_in_dev_reports_not_applicable_under_the_analyzer() -> None:
    rule = rule_named("s3-bucket-no-force-destroy")
    args = ResourceValidationArgs(BUCKET, unknown_checking_proxy({"forceDestroy": True}), "urn:b", "b", OPTS,
                                  provider("dev"))
    with pytest.raises(_NotApplicableError):
        rule.validate(args, lambda message, urn=None: None)


def test_under_the_analyzer_a_violation_carries_the_fix() -> None:
    messages: list[str] = []
    args = ResourceValidationArgs("aws:kms/key:Key", unknown_checking_proxy({}), "urn:k", "k", OPTS, provider("prod"))
    rule_named("kms-key-rotation").validate(args, lambda message, urn=None: messages.append(message))
    assert messages == ["symmetric key without automatic rotation\nFix: Set enable_key_rotation=True on aws.kms.Key "
                        "(optionally rotation_period_in_days)"]


def waived_bucket(reason: str) -> tuple[Res, ...]:
    resources = bucket_set(drop=("sse",))
    bucket = resources[0]
    tagged = Res(bucket.type, {**bucket.props, "tags": {"waiver:s3-bucket-encrypted-kms": reason}}, name=bucket.name,
                 protect=True)
    return (tagged, *resources[1:])


def test_a_waiver_tag_silences_one_rule_on_one_resource_and_is_listed() -> None:
    result = run_rule("s3-bucket-encrypted-kms", plan_of(waived_bucket("log delivery needs SSE-S3"), "prod"), "prod")
    assert result.violations == []
    assert [(w.rule, w.reason) for w in result.waived] == [("s3-bucket-encrypted-kms", "log delivery needs SSE-S3")]
    assert "no default encryption" in result.waived[0].message
    # The same bucket still answers to every other rule.
    assert run_rule("s3-bucket-versioning", plan_of(waived_bucket("x"), "prod"), "prod").waived == []


def test_a_waiver_without_a_reason_does_not_apply() -> None:
    result = run_rule("s3-bucket-encrypted-kms", plan_of(waived_bucket("  "), "prod"), "prod")
    assert result.waived == []
    assert "gives no reason, so it does not apply" in result.violations[0].message


def test_under_the_analyzer_a_waived_violation_is_not_reported() -> None:
    bucket = PolicyResource(BUCKET, unknown_checking_proxy({"tags": {"waiver:s3-bucket-versioning": "scratch"}}),
                            "urn:b", "b", OPTS, provider("prod"), None, [], {})
    reported: list[str] = []
    rule_named("s3-bucket-versioning").validate(StackValidationArgs([bucket]), lambda m, urn=None: reported.append(m))
    assert reported == []


def test_kubernetes_waivers_are_annotations() -> None:
    deployment = Res("kubernetes:apps/v1:Deployment", {"metadata": {"namespace": "serving", "annotations": {
        "waiver.mlops/k8s-min-replicas": "batch scorer - one replica is enough"}}, "spec": {"replicas": 1}},
        provider=NO_PROVIDER)
    result = run_rule("k8s-min-replicas", plan_of([deployment], "prod"), "prod")
    assert result.violations == [] and result.waived[0].reason == "batch scorer - one replica is enough"


def test_waiver_tags_follow_aws_tag_rules() -> None:
    assert waiver_tags({"s3-bucket-access-logging": "the log bucket itself"}) == {
        "waiver:s3-bucket-access-logging": "the log bucket itself"
    }
    assert waiver_problems({"rule": "commas, are not allowed"}) == [
        "waiver 'rule': reason must be at most 256 characters of letters, digits, spaces and _ . : / = + - @ "
        "(AWS tag values), got 'commas, are not allowed'"
    ]
    assert waiver_problems({"rule": ""}) == ["waiver 'rule': give the reason the rule does not apply"]
    with pytest.raises(ValueError, match="x" * 10):
        waiver_tags({"r": "x" * 300})


def test_the_component_and_the_pack_agree_on_the_waiver_tag() -> None:
    assert secure_bucket.WAIVER_TAG_PREFIX == WAIVER_TAG_PREFIX
    for reason in ("fine - letters and = + / @ . : _", "not, fine", "x" * 257, " "):
        assert bool(secure_bucket._waiver_problems({"r": reason})) == bool(waiver_problems({"r": reason}))


def test_unknown_values_are_not_evaluated_instead_of_guessed() -> None:
    plan = plan_of([Res("aws:kms/key:Key", {"enableKeyRotation": "[unknown]"})], "prod")
    result = run_rule("kms-key-rotation", plan, "prod")
    assert result.violations == []
    assert result.not_evaluated == [
        "urn:pulumi:test::mlops::aws:kms/key:Key::r: string value at .enableKeyRotation can't be known during preview"
    ]


def test_a_rule_that_crashes_fails_the_check_with_the_resource_named(monkeypatch: pytest.MonkeyPatch) -> None:
    rule = rule_named("kms-key-enabled")

    def broken(args: object, env: str) -> list[str]:
        raise RuntimeError("boom")

    monkeypatch.setattr(rule, "check", broken)
    report = check_plan(plan_of([Res("aws:kms/key:Key", {})], "prod"), "prod")
    assert not report.passed
    assert report.errors == ["kms-key-enabled: urn:pulumi:test::mlops::aws:kms/key:Key::r: RuntimeError: boom"]


def test_build_resources_links_parents_dependencies_and_providers() -> None:
    plan = plan_of(bucket_set(), "prod")
    plan["resources"][3]["parent"] = plan["resources"][2]["urn"]
    resources = build_resources(plan["resources"])
    bucket, pab = resources[2], resources[3]
    assert pab.parent is bucket
    assert pab.dependencies == [bucket]
    assert pab.property_dependencies == {"bucket": [bucket]}
    assert bucket.provider is not None and bucket.provider.urn == "urn:pulumi:test::mlops::pulumi:providers:aws::aws"
    assert bucket.opts.protect is True


def test_check_plan_levels_follow_the_environment() -> None:
    plan = plan_of([Res("aws:sagemaker/endpointConfiguration:EndpointConfiguration", {
        "kmsKeyArn": "k", "productionVariants": [{"variantName": "v", "instanceType": "ml.m5.large",
                                                  "initialInstanceCount": 1}]})], "dev")
    dev = check_plan(plan, "dev")
    ha = next(r for r in dev.results if r.rule.name == "sagemaker-endpoint-variant-ha")
    assert ha.level is EnforcementLevel.ADVISORY and ha.violations[0].level == "advisory"
    assert dev.mandatory == [v for v in dev.violations if v.level == "mandatory"]
    prod = check_plan(plan_of([], "prod"), "prod")  # an empty stack passes
    assert prod.passed and prod.violations == []


def test_secure_bucket_refuses_a_waiver_aws_cannot_tag_before_creating_anything() -> None:
    created: list[str] = []

    def program() -> None:
        SecureBucket("b", SecureBucketArgs(purpose="x", waivers={"s3-bucket-versioning": "scratch, disposable"}))
        created.append("b")

    # run_program reports a component's InputPropertyError as a plan error naming the stack and the input.
    with pytest.raises(PlanError) as raised:
        run_program(program, "mlops", "test", {})
    assert str(raised.value).startswith("stack 'test': waivers: SecureBucket b: waiver 's3-bucket-versioning': "
                                        "the reason must be 1-256 characters")
    assert created == []


def test_secure_bucket_turns_waivers_into_tags() -> None:
    plan = run_program(
        lambda: SecureBucket("b", SecureBucketArgs(purpose="x", waivers={"s3-bucket-versioning": "scratch data"})),
        "mlops", "test", {},
    )
    bucket = next(r for r in plan.resources if r.type == "aws:s3/bucket:Bucket")
    assert bucket.inputs["tags"] == {"purpose": "x", "waiver:s3-bucket-versioning": "scratch data"}
