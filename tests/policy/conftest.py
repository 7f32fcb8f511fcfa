"""Fixtures of the policy tests: the project's stacks planned once, in the shape `mlops check` feeds the rules."""

from __future__ import annotations

from typing import Any

import pytest

from mlops.commands.check import plan_for_policies
from mlops.plan import Plan
from tests._project import PROJECT_DIR, STACKS  # noqa: F401 - re-exported to the test modules


@pytest.fixture(scope="session")
def stack_plans(plans: dict[str, Plan]) -> dict[str, dict[str, Any]]:
    """Each stack's plan JSON with property dependencies, computed once per session."""
    return {stack: plan_for_policies(plans[stack]) for stack in STACKS}
