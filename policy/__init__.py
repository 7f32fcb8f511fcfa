"""The MLOps guardrails: a CrossGuard policy pack (`pulumi preview --policy-pack policy`) whose rule objects
`mlops check` also runs offline over the recorded plan. Importing this package starts nothing; only
`policy/__main__.py`, run by the policy analyzer, builds the `PolicyPack`."""

from ._environment import ENVIRONMENTS, startup_environment
from ._rule import Levels, ResourceRule, StackRule
from ._waivers import WAIVER_ANNOTATION_PREFIX, WAIVER_TAG_PREFIX, waiver_problems, waiver_tags
from .pack import PACK_NAME, policies_for, rule_named
from .rules import ALL_RULES

__all__ = [
    "ALL_RULES",
    "ENVIRONMENTS",
    "PACK_NAME",
    "WAIVER_ANNOTATION_PREFIX",
    "WAIVER_TAG_PREFIX",
    "Levels",
    "ResourceRule",
    "StackRule",
    "policies_for",
    "rule_named",
    "startup_environment",
    "waiver_problems",
    "waiver_tags",
]
