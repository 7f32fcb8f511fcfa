"""The pack as a whole: every rule is described, tested both ways, and typed for the resources it claims."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi_aws
import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policy import ALL_RULES, ENVIRONMENTS, ResourceRule, StackRule, policies_for, rule_named
from policy.catalogue import markdown_table
from policy.rules._taggable import TAGGABLE, scan

from . import test_rules_kms_iam, test_rules_platform, test_rules_s3, test_rules_sagemaker
from ._kit import Case

ALL_CASES: list[Case] = [
    *test_rules_s3.CASES,
    *test_rules_kms_iam.CASES,
    *test_rules_sagemaker.CASES,
    *test_rules_platform.CASES,
]
RULE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
PULUMI_AWS = Path(pulumi_aws.__file__).parent


def test_the_pack_has_at_least_forty_rules_with_unique_names() -> None:
    names = [r.name for r in ALL_RULES]
    assert len(names) >= 40
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.name)
def test_every_rule_has_a_compliant_and_a_violating_case(rule: ResourceRule | StackRule) -> None:
    cases = [c for c in ALL_CASES if c.rule == rule.name]
    assert any(c.compliant for c in cases), f"{rule.name}: no compliant case"
    assert any(not c.compliant for c in cases), f"{rule.name}: no violating case"


def test_every_case_names_an_existing_rule() -> None:
    unknown = {c.rule for c in ALL_CASES} - {r.name for r in ALL_RULES}
    assert unknown == set()


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.name)
def test_every_rule_carries_its_ids_fix_and_levels(rule: ResourceRule | StackRule) -> None:
    assert RULE_NAME.match(rule.name)
    assert rule.ids and all(rule.ids)
    assert f"[{', '.join(rule.ids)}]" in rule.description
    assert rule.fix and rule.remediation_steps == rule.fix
    # Staging and prod are mandatory unless the rule says, in its description, that it is advisory or prod-only.
    for env in ("staging", "prod"):
        if rule.level_for(env) is not EnforcementLevel.MANDATORY:
            assert "Advisory" in rule.description, f"{rule.name} is {rule.level_for(env).value} in {env} silently"
    if rule.level_for("dev") is not EnforcementLevel.MANDATORY:
        assert "dev:" in rule.description or "every environment" in rule.description
    assert isinstance(rule, ResourceValidationPolicy | StackValidationPolicy)


def test_resource_rules_name_real_pulumi_aws_types() -> None:
    """A typo in a type token would make a rule silently check nothing."""
    tokens = set()
    for path in PULUMI_AWS.glob("*/*.py"):
        tokens.update(re.findall(r"'(aws:[a-zA-Z0-9]+/[a-zA-Z0-9]+:[a-zA-Z0-9]+)'", path.read_text(encoding="utf-8")))
    for rule in ALL_RULES:
        if isinstance(rule, ResourceRule):
            claimed = {t for t in rule.types if t.startswith("aws:")}
            assert claimed <= tokens, f"{rule.name}: unknown types {sorted(claimed - tokens)}"


def test_taggable_types_match_the_installed_pulumi_aws() -> None:
    assert scan(PULUMI_AWS) == set(TAGGABLE), "regenerate policy/rules/_taggable.py (python -m policy.rules._taggable)"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_policies_for_an_environment_sets_each_level_without_touching_the_rules(env: str) -> None:
    leveled = policies_for(env)
    assert [p.name for p in leveled] == [r.name for r in ALL_RULES]
    for policy, rule in zip(leveled, ALL_RULES, strict=True):
        assert policy.enforcement_level is rule.level_for(env)
        assert policy.check is rule.check  # the same logic, not a copy of it
        assert rule.enforcement_level is EnforcementLevel.MANDATORY


def test_dev_relaxes_only_the_rules_that_say_so() -> None:
    dev = {p.name: p.enforcement_level for p in policies_for("dev")}
    assert dev["sagemaker-endpoint-variant-ha"] is EnforcementLevel.ADVISORY
    assert dev["stateful-resources-protected"] is EnforcementLevel.DISABLED
    assert dev["s3-bucket-encrypted-kms"] is EnforcementLevel.MANDATORY
    prod = {p.name: p.enforcement_level for p in policies_for("prod")}
    assert prod["sagemaker-endpoint-variant-ha"] is EnforcementLevel.MANDATORY
    assert prod["stateful-resources-protected"] is EnforcementLevel.MANDATORY


def test_an_unknown_environment_gets_prod_levels() -> None:
    assert [p.enforcement_level for p in policies_for("qa")] == [p.enforcement_level for p in policies_for("prod")]
    assert [p.enforcement_level for p in policies_for(None)] == [p.enforcement_level for p in policies_for("prod")]


def test_rule_named_lists_the_rules_when_the_name_is_wrong() -> None:
    with pytest.raises(KeyError, match="no rule named 's3-nope'; rules: s3-account-public-access-block"):
        rule_named("s3-nope")


def test_the_docs_list_every_rule_at_its_level() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
    start = docs.index("<!-- catalogue:start")
    table = docs[docs.index("\n", start) + 1 : docs.index("<!-- catalogue:end -->")]
    assert table == markdown_table(), "regenerate the table in docs/policy.md with `python -m policy.catalogue`"
    assert f"It holds {len(ALL_RULES)} rules ({sum(isinstance(r, StackRule) for r in ALL_RULES)} of them" in docs
