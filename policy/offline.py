"""Running the pack's own rule objects over a recorded plan, without the Pulumi engine.

The plan (`mlops plan --json`'s contract, plus each resource's `propertyDependencies` when known) is turned
into the same argument objects the policy analyzer builds during `pulumi preview`: `ResourceValidationArgs`
for each resource and each resource rule, one `StackValidationArgs` with every resource (parents,
dependencies and property dependencies linked) for each stack rule. Inputs are wrapped in the SDK's
unknown-checking proxy, so a value the plan could not know behaves as it would in a preview.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError  # the SDK's own "not applicable" signal
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from ._environment import known
from ._rule import ResourceRule, StackRule
from .pack import policies_for

UNKNOWN_IN_PLAN = "[unknown]"


@dataclass(frozen=True)
class Violation:
    """One problem a rule found."""

    rule: str
    level: str
    urn: str
    message: str


@dataclass(frozen=True)
class Waived:
    """A problem a rule found on a resource that waives the rule, with the resource's reason."""

    rule: str
    urn: str
    reason: str
    message: str


@dataclass
class RuleResult:
    """What one rule did over the plan."""

    rule: ResourceRule | StackRule
    level: EnforcementLevel
    violations: list[Violation] = field(default_factory=list)
    waived: list[Waived] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    """Resources (or the stack) whose inputs were unknown to the plan, with what was unknown."""
    errors: list[str] = field(default_factory=list)
    """Exceptions the rule raised: a bug in the rule, reported rather than hidden."""

    @property
    def kind(self) -> str:
        return "stack" if isinstance(self.rule, StackRule) else "resource"

    @property
    def status(self) -> str:
        if self.level is EnforcementLevel.DISABLED:
            return "off"
        if self.errors:
            return "error"
        if self.violations:
            return f"{len(self.violations)} violation(s)"
        return "waived" if self.waived else "pass"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.rule.name,
            "kind": self.kind,
            "level": self.level.value,
            "ids": list(self.rule.ids),
            "description": self.rule.description,
            "fix": self.rule.fix,
            "status": self.status,
            "violations": [v.__dict__ for v in self.violations],
            "waived": [w.__dict__ for w in self.waived],
            "notEvaluated": self.not_evaluated,
            "errors": self.errors,
        }


@dataclass
class CheckReport:
    """The outcome of running every rule over one stack's plan."""

    stack: str
    environment: str | None
    resources: int
    results: list[RuleResult]

    @property
    def violations(self) -> list[Violation]:
        return [v for r in self.results for v in r.violations]

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == EnforcementLevel.MANDATORY.value]

    @property
    def waived(self) -> list[Waived]:
        return [w for r in self.results for w in r.waived]

    @property
    def errors(self) -> list[str]:
        return [f"{r.rule.name}: {e}" for r in self.results for e in r.errors]

    @property
    def passed(self) -> bool:
        """No mandatory violation and no rule that crashed."""
        return not self.mandatory and not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "environment": self.environment,
            "passed": self.passed,
            "resources": self.resources,
            "rules": [r.to_json() for r in self.results],
            "violations": [v.__dict__ for v in self.violations],
            "waivers": [w.__dict__ for w in self.waived],
        }


class _Collector:
    """The report callback handed to a rule: records violations, and (offline only) waived ones."""

    def __init__(self, result: RuleResult, default_urn: str) -> None:
        self._result = result
        self._default_urn = default_urn

    def __call__(self, message: str, urn: str | None = None) -> None:
        level = self._result.level.value
        self._result.violations.append(Violation(self._result.rule.name, level, urn or self._default_urn, message))

    def waived(self, rule: str, urn: str, reason: str, message: str) -> None:
        self._result.waived.append(Waived(rule, urn, reason, message))


def _with_unknowns(value: Any) -> Any:
    """The plan's "[unknown]" placeholders as the SDK's unknown sentinel, so reading them raises."""
    if value == UNKNOWN_IN_PLAN:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {k: _with_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_unknowns(v) for v in value]
    return value


def _options(entry: Mapping[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(entry.get("protect")),
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=entry.get("parent"),
    )


def build_resources(entries: Sequence[Mapping[str, Any]]) -> list[PolicyResource]:
    """PolicyResource objects for the plan's resources, linked to parents, dependencies and providers."""
    providers = {
        e["urn"]: PolicyProviderResource(e["type"], unknown_checking_proxy(_with_unknowns(e["inputs"])), e["urn"],
                                         e["name"])
        for e in entries
        if str(e["type"]).startswith("pulumi:providers:")
    }
    resources = [
        PolicyResource(
            e["type"],
            unknown_checking_proxy(_with_unknowns(e.get("inputs") or {})),
            e["urn"],
            e["name"],
            _options(e),
            providers.get(e.get("provider") or ""),
            None,
            [],
            {},
        )
        for e in entries
    ]
    by_urn = {r.urn: r for r in resources}
    for resource, entry in zip(resources, entries, strict=True):
        resource.parent = by_urn.get(entry.get("parent") or "")
        resource.dependencies = [by_urn[u] for u in entry.get("dependencies") or [] if u in by_urn]
        resource.property_dependencies = {
            prop: [by_urn[u] for u in urns if u in by_urn]
            for prop, urns in (entry.get("propertyDependencies") or {}).items()
        }
    return resources


def run_validation(result: RuleResult, validate: Any, args: Any, urn: str) -> None:
    """Call one validate with a collecting report; unknown inputs, not-applicable and crashes are recorded."""
    try:
        outcome = validate(args, _Collector(result, urn))
        if isawaitable(outcome):
            asyncio.run(outcome)
    except UnknownValueError as exc:
        result.not_evaluated.append(f"{urn}: {exc.message}")
    except _NotApplicableError:
        pass
    except Exception as exc:  # a crashing rule is reported with the resource it crashed on, not hidden
        result.errors.append(f"{urn}: {type(exc).__name__}: {exc}")


def check_plan(plan: Mapping[str, Any], environment: str | None = None) -> CheckReport:
    """Run every rule of the pack, at its level for `environment`, over one recorded plan."""
    env = known(environment)
    config = {"environment": env} if env else {}
    entries = plan["resources"]
    resources = build_resources(entries)
    stack_urn = next((r.urn for r in resources if r.resource_type == "pulumi:pulumi:Stack"), "")
    results = []
    for policy in policies_for(env):
        result = RuleResult(policy, policy.enforcement_level or EnforcementLevel.MANDATORY)
        results.append(result)
        if result.level is EnforcementLevel.DISABLED:
            continue
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, r.provider, config, {})
                run_validation(result, policy.validate, args, r.urn)
        else:
            run_validation(result, policy.validate, StackValidationArgs(resources, config, {}), stack_urn)
    return CheckReport(str(plan.get("stack", "")), env, len(entries), results)
