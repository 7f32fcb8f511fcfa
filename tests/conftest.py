"""Fixtures shared by every test area."""

from __future__ import annotations

import pytest

from mlops.plan import Plan, run_plan

from ._project import PROJECT_DIR, STACKS


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    """The offline plan of every committed stack, computed once per test session (tests must not change it)."""
    return {stack: run_plan(PROJECT_DIR, stack) for stack in STACKS}
