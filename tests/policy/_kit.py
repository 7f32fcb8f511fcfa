"""Building minimal stacks for one rule and running the rule over them the way `mlops check` does.

A case is a few resources (type, inputs, options, property dependencies by name) plus the environment; the kit
turns them into a plan in the `mlops plan --json` shape, converts it with `policy.offline.build_resources` (the
same code `mlops check` uses, with the SDK's unknown-checking proxy), and runs one rule object of the pack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs

from policy import rule_named
from policy.offline import RuleResult, build_resources, run_validation

STANDARD_TAGS = {"project": "mlops", "owner": "ml-platform", "cost-center": "cc-ml-1001", "managed-by": "pulumi"}
PROVIDER_URN = "urn:pulumi:test::mlops::pulumi:providers:aws::aws"
NO_PROVIDER = "none"


@dataclass(frozen=True)
class Res:
    """One resource of a case."""

    type: str
    props: Mapping[str, Any] = field(default_factory=dict)
    name: str = "r"
    protect: bool = False
    deps: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Property name -> names of the case's resources that input comes from."""
    provider: str = "aws"
    """"aws" for the stack's tagged AWS provider, NO_PROVIDER for none (the default provider)."""


@dataclass(frozen=True)
class Case:
    """A compliant or violating example of one rule."""

    rule: str
    compliant: bool
    label: str
    resources: tuple[Res, ...]
    env: str = "prod"
    expect: str = ""
    """Text a violation message must contain (violating cases)."""

    @property
    def id(self) -> str:
        return f"{self.rule}:{'ok' if self.compliant else 'bad'}:{self.label}"


def ok(rule: str, label: str, *resources: Res, env: str = "prod") -> Case:
    return Case(rule, True, label, resources, env)


def bad(rule: str, label: str, *resources: Res, expect: str = "", env: str = "prod") -> Case:
    return Case(rule, False, label, resources, env, expect)


def urn_of(res: Res) -> str:
    return f"urn:pulumi:test::mlops::{res.type}::{res.name}"


def plan_of(resources: Sequence[Res], env: str, provider_props: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A plan in the `mlops plan --json` shape (with propertyDependencies) holding the case's resources."""
    by_name = {r.name: r for r in resources}
    provider_inputs = provider_props or {"region": "us-east-1", "defaultTags": {"tags": {**STANDARD_TAGS,
                                                                                         "environment": env}}}
    entries: list[dict[str, Any]] = [
        {"urn": "urn:pulumi:test::mlops::pulumi:pulumi:Stack::mlops-test", "type": "pulumi:pulumi:Stack",
         "name": "mlops-test", "parent": None, "custom": False, "inputs": {}, "dependencies": [],
         "protect": False, "retainOnDelete": False, "provider": None},
        {"urn": PROVIDER_URN, "type": "pulumi:providers:aws", "name": "aws", "parent": None, "custom": True,
         "inputs": provider_inputs, "dependencies": [], "protect": False, "retainOnDelete": False, "provider": None},
    ]
    for res in resources:
        deps = {prop: [urn_of(by_name[n]) for n in names] for prop, names in res.deps.items()}
        entries.append(
            {
                "urn": urn_of(res),
                "type": res.type,
                "name": res.name,
                "parent": None,
                "custom": True,
                "inputs": dict(res.props),
                "dependencies": sorted({u for urns in deps.values() for u in urns}),
                "protect": res.protect,
                "retainOnDelete": res.protect,
                "provider": None if res.provider == NO_PROVIDER else PROVIDER_URN,
                "propertyDependencies": deps,
            }
        )
    return {"project": "mlops", "stack": "test", "resources": entries, "outputs": {}}


def run_rule(rule_name: str, plan: Mapping[str, Any], env: str | None) -> RuleResult:
    """Run one rule of the pack over a plan, with the environment in the rule's config as `mlops check` does."""
    rule = rule_named(rule_name)
    result = RuleResult(rule, rule.level_for(env or "prod"))
    config = {"environment": env} if env else {}
    resources = build_resources(plan["resources"])
    if isinstance(rule, ResourceValidationPolicy):
        for r in resources:
            args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, r.provider, config, {})
            run_validation(result, rule.validate, args, r.urn)
    else:
        run_validation(result, rule.validate, StackValidationArgs(resources, config, {}), resources[0].urn)
    return result


def run_case(case: Case) -> RuleResult:
    return run_rule(case.rule, plan_of(case.resources, case.env), case.env)


def assert_case(case: Case) -> None:
    """A compliant case yields no violation; a violating case yields one (containing `expect`)."""
    result = run_case(case)
    assert not result.errors, result.errors
    assert not result.not_evaluated, result.not_evaluated
    messages = [v.message for v in result.violations]
    if case.compliant:
        assert messages == [], f"{case.id}: unexpected violations {messages}"
    else:
        assert messages, f"{case.id}: the rule reported nothing"
        assert any(case.expect in m for m in messages), f"{case.id}: no message contains {case.expect!r}: {messages}"
