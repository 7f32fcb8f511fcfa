"""Shared pieces of the settings model: camelCase aliases (the stack files' spelling) and name rules."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Lowercase letters, digits and hyphens, starting with a letter: valid for S3 bucket prefixes, SageMaker
# endpoint / pipeline / model package group names and Kubernetes object names alike.
NAME_PATTERN = r"^[a-z][a-z0-9-]*[a-z0-9]$"
NAME_RE = re.compile(NAME_PATTERN)


class SettingsModel(BaseModel):
    """Base of every settings section: stack-file keys are camelCase, unknown keys are errors (typos)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=False,
    )
