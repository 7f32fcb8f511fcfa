"""The pack as the analyzer and `mlops check` both load it: every rule at its level for one environment."""

from __future__ import annotations

import copy

from ._environment import STRICTEST, known
from ._rule import ResourceRule, StackRule
from .rules import ALL_RULES

PACK_NAME = "mlops-guardrails"
DESCRIPTION = (
    "Security and reliability guardrails of the MLOps toolkit: S3, KMS, IAM, tagging, data protection, SageMaker, "
    "ECR, CloudWatch/SNS, VPC and Kubernetes serving, with per-environment enforcement and per-resource waivers."
)


def policies_for(environment: str | None) -> list[ResourceRule | StackRule]:
    """Every rule, set to its enforcement level in `environment` (unknown or None: prod's levels).

    The returned objects are shallow copies sharing the rules' check functions, so building the pack for one
    environment never changes the level another caller sees on the module-level rule objects.
    """
    env = known(environment) or STRICTEST
    policies: list[ResourceRule | StackRule] = []
    for rule in ALL_RULES:
        leveled = copy.copy(rule)
        leveled.enforcement_level = rule.level_for(env)
        leveled.default_environment = known(environment)
        policies.append(leveled)
    return policies


def rule_named(name: str) -> ResourceRule | StackRule:
    """The rule with this name; KeyError naming the known rules otherwise."""
    for rule in ALL_RULES:
        if rule.name == name:
            return rule
    raise KeyError(f"no rule named '{name}'; rules: {', '.join(r.name for r in ALL_RULES)}")
