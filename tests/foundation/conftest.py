"""Fixtures of the foundation tests: the project's own plans and a bucket-to-side-resource join."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.plan import Plan, run_plan

PROJECT_DIR = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    """The offline plan of every stack, computed once per test session."""
    return {stack: run_plan(PROJECT_DIR, stack) for stack in STACKS}
