"""Fixtures of the foundation tests (the shared `plans` fixture lives in tests/conftest.py)."""

from __future__ import annotations

from tests._project import PROJECT_DIR, STACKS

__all__ = ["PROJECT_DIR", "STACKS"]
