"""Fixtures of the policy tests: the project's stacks planned once, in the shape `mlops check` feeds the rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops.commands.check import plan_for_policies
from mlops.plan import run_plan

PROJECT_DIR = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def stack_plans() -> dict[str, dict[str, Any]]:
    """Each stack's plan JSON with property dependencies, computed once per session."""
    return {stack: plan_for_policies(run_plan(PROJECT_DIR, stack)) for stack in STACKS}
