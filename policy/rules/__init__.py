"""Every rule of the pack, grouped by service (one module each)."""

from __future__ import annotations

from types import ModuleType

from .._rule import ResourceRule, StackRule
from . import (
    data_protection,
    ecr,
    iam,
    kms,
    kubernetes,
    monitoring,
    network,
    s3,
    sagemaker_hosting,
    sagemaker_jobs,
    sagemaker_studio,
    tagging,
)

SERVICE_MODULES: tuple[ModuleType, ...] = (
    s3,
    kms,
    iam,
    tagging,
    data_protection,
    sagemaker_hosting,
    sagemaker_jobs,
    sagemaker_studio,
    ecr,
    monitoring,
    network,
    kubernetes,
)


def _rules_of(module: ModuleType) -> list[ResourceRule | StackRule]:
    # Module attributes keep definition order, so rules list in the order their file declares them.
    return [value for value in vars(module).values() if isinstance(value, ResourceRule | StackRule)]


ALL_RULES: tuple[ResourceRule | StackRule, ...] = tuple(rule for m in SERVICE_MODULES for rule in _rules_of(m))

__all__ = ["ALL_RULES", "SERVICE_MODULES"]
