"""The two kinds of rule in the pack, built from small check functions.

A rule is a real `pulumi_policy` policy object (`ResourceValidationPolicy` or `StackValidationPolicy`), so the
same object runs inside `pulumi preview --policy-pack policy` and inside `mlops check`. What it adds:

- `ids`: the scanner ids it implements (Checkov, Security Hub, ...), also shown in its description;
- `fix`: what to change, reported with each violation (`remediation_steps` for the Pulumi service);
- `levels`: its enforcement level per environment. Staging and prod are always mandatory (or the rule is
  advisory everywhere, which its description says); dev may be advisory or off;
- waivers: a violation on a resource that waives the rule (see `_waivers.py`) is not reported to the engine;
  an offline report callback that has a `waived` method hears about it instead, so `mlops check` lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._environment import ENVIRONMENTS, resource_environment, stack_environment
from ._waivers import waiver_reason

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
OFF = EnforcementLevel.DISABLED

ResourceCheck = Callable[[ResourceValidationArgs, str], Iterable[str]]
"""Yields one message per problem of the resource; gets the args and the environment."""
StackCheck = Callable[[StackValidationArgs, str], Iterable[tuple[PolicyResource, str]]]
"""Yields (resource at fault, message) per problem of the stack; gets the args and the environment."""

CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        "environment": {
            "type": "string",
            "enum": list(ENVIRONMENTS),
            "description": "Environment of the stack; otherwise read from stack tags or the AWS provider's tags.",
        }
    }
)


@dataclass(frozen=True)
class Levels:
    """Enforcement level of a rule in each environment."""

    dev: EnforcementLevel = MANDATORY
    staging: EnforcementLevel = MANDATORY
    prod: EnforcementLevel = MANDATORY

    def of(self, environment: str) -> EnforcementLevel:
        """Level in an environment (unknown names get prod's)."""
        return getattr(self, environment, self.prod)

    def describe(self) -> str:
        """The sentence the rule's description ends with."""
        if self.dev == self.staging == self.prod:
            return "" if self.prod is MANDATORY else f" {self.prod.value.capitalize()} in every environment."
        parts = [f"{env}: {'off' if self.of(env) is OFF else self.of(env).value}" for env in ENVIRONMENTS]
        return f" Levels - {', '.join(parts)}."


EVERYWHERE = Levels()
ADVISORY_IN_DEV = Levels(dev=ADVISORY)
OFF_IN_DEV = Levels(dev=OFF)
ADVISORY_EVERYWHERE = Levels(ADVISORY, ADVISORY, ADVISORY)


class _RuleMixin:
    """Metadata and level handling shared by both rule kinds."""

    name: str
    ids: tuple[str, ...]
    fix: str
    service: str
    levels: Levels
    default_environment: str | None = None
    """Environment the pack was started for (from the stack config); the last fallback before prod."""

    def level_for(self, environment: str) -> EnforcementLevel:
        """Enforcement level of this rule in `environment`."""
        return self.levels.of(environment)

    def _policy_arguments(
        self, name: str, ids: tuple[str, ...], summary: str, fix: str, module: str, levels: Levels,
        severity: Severity,
    ) -> dict[str, Any]:
        """Record the rule's metadata; return the arguments of the pulumi_policy base class."""
        self.ids, self.fix, self.levels = ids, fix, levels
        self.service = module.rsplit(".", 1)[-1]
        return {
            "name": name,
            "description": _description(summary, ids, levels),
            "enforcement_level": MANDATORY,
            "config_schema": CONFIG_SCHEMA,
            "severity": severity,
            "tags": [self.service],
            "remediation_steps": fix,
        }

    def _emit(self, report: ReportViolation, urn: str, message: str, props: Any) -> None:
        reason = waiver_reason(props, self.name)
        waived = getattr(report, "waived", None)
        if reason:
            if callable(waived):
                waived(self.name, urn, reason, message)
            return
        if reason == "":
            message += f" (a waiver tag for {self.name} is present but gives no reason, so it does not apply)"
        # The engine prints the description and the message; the offline report prints the fix itself.
        report(message if callable(waived) else f"{message}\nFix: {self.fix}", urn)


def _description(summary: str, ids: tuple[str, ...], levels: Levels) -> str:
    return f"{summary} [{', '.join(ids)}].{levels.describe()}"


class ResourceRule(_RuleMixin, ResourceValidationPolicy):
    """A rule about one resource at a time, for the resource types it names."""

    def __init__(
        self,
        *,
        name: str,
        ids: tuple[str, ...],
        summary: str,
        fix: str,
        types: Iterable[str],
        check: ResourceCheck,
        levels: Levels = EVERYWHERE,
        severity: Severity = Severity.HIGH,
    ) -> None:
        self.types = frozenset(types)
        self.check = check
        super().__init__(**self._policy_arguments(name, ids, summary, fix, check.__module__, levels, severity))

    def validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in self.types:
            return
        environment = resource_environment(args, self.default_environment)
        if self.level_for(environment) is OFF:
            args.not_applicable(f"{self.name} is off in {environment}")
        for message in self.check(args, environment):
            self._emit(report_violation, args.urn, message, args.props)


class StackRule(_RuleMixin, StackValidationPolicy):
    """A rule over the whole stack: joins resources (a bucket and its side resources, an endpoint and its
    alarms) through their property dependencies, parents and dependencies."""

    def __init__(
        self,
        *,
        name: str,
        ids: tuple[str, ...],
        summary: str,
        fix: str,
        check: StackCheck,
        levels: Levels = EVERYWHERE,
        severity: Severity = Severity.HIGH,
    ) -> None:
        self.check = check
        super().__init__(**self._policy_arguments(name, ids, summary, fix, check.__module__, levels, severity))

    def validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        environment = stack_environment(args, self.default_environment)
        if self.level_for(environment) is OFF:
            args.not_applicable(f"{self.name} is off in {environment}")
        for resource, message in self.check(args, environment):
            self._emit(report_violation, resource.urn, message, resource.props)


Rule = ResourceRule | StackRule


def resource_rule(
    *,
    name: str,
    ids: tuple[str, ...],
    summary: str,
    fix: str,
    types: Iterable[str],
    levels: Levels = EVERYWHERE,
    severity: Severity = Severity.HIGH,
) -> Callable[[ResourceCheck], ResourceRule]:
    """Turn a check function into a ResourceRule (the module attribute becomes the policy object)."""

    def wrap(check: ResourceCheck) -> ResourceRule:
        return ResourceRule(
            name=name, ids=ids, summary=summary, fix=fix, types=types, check=check, levels=levels, severity=severity
        )

    return wrap


def stack_rule(
    *,
    name: str,
    ids: tuple[str, ...],
    summary: str,
    fix: str,
    levels: Levels = EVERYWHERE,
    severity: Severity = Severity.HIGH,
) -> Callable[[StackCheck], StackRule]:
    """Turn a check function into a StackRule."""

    def wrap(check: StackCheck) -> StackRule:
        return StackRule(name=name, ids=ids, summary=summary, fix=fix, check=check, levels=levels, severity=severity)

    return wrap
