"""Per-resource waivers: a tag (AWS) or annotation (Kubernetes) that names one rule and says why.

AWS:        tag `waiver:<rule-name>` = `<reason>`   e.g. `waiver:s3-bucket-encrypted-kms` = `S3 server access ...`
Kubernetes: annotation `waiver.mlops/<rule-name>` = `<reason>`

One tag per waived rule keeps every value inside AWS's tag limits (key 128 and value 256 characters; letters,
digits, spaces and `_ . : / = + - @`) and makes each waiver show up by itself in the console, in Cost Explorer
tag lists and in code review. A waiver without a reason does not apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._props import get, tags_of

WAIVER_TAG_PREFIX = "waiver:"
WAIVER_ANNOTATION_PREFIX = "waiver.mlops/"
TAG_VALUE_LIMIT = 256
TAG_KEY_LIMIT = 128
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")


def waiver_reason(props: Mapping[str, Any], rule_name: str) -> str | None:
    """The reason the resource waives `rule_name`; "" when the waiver is there without a reason; else None."""
    reason = tags_of(props).get(f"{WAIVER_TAG_PREFIX}{rule_name}")
    if reason is None:
        annotations = get(props, "metadata", "annotations")
        if isinstance(annotations, Mapping):
            value = annotations.get(f"{WAIVER_ANNOTATION_PREFIX}{rule_name}")
            reason = None if value is None else str(value)
    return None if reason is None else reason.strip()


def waiver_tags(waivers: Mapping[str, str]) -> dict[str, str]:
    """Tags that waive each rule with its reason; raises ValueError listing every unusable waiver."""
    problems = waiver_problems(waivers)
    if problems:
        raise ValueError("; ".join(problems))
    return {f"{WAIVER_TAG_PREFIX}{rule}": reason.strip() for rule, reason in waivers.items()}


def waiver_problems(waivers: Mapping[str, str]) -> list[str]:
    """What is wrong with each waiver (rule name or reason that AWS would refuse as a tag)."""
    problems: list[str] = []
    for rule, reason in waivers.items():
        key = f"{WAIVER_TAG_PREFIX}{rule}"
        if not rule or len(key) > TAG_KEY_LIMIT or not _TAG_TEXT.match(rule):
            problems.append(f"waiver '{rule}': not a usable rule name for a tag key")
        if not reason or not reason.strip():
            problems.append(f"waiver '{rule}': give the reason the rule does not apply")
        elif len(reason) > TAG_VALUE_LIMIT or not _TAG_TEXT.match(reason):
            problems.append(
                f"waiver '{rule}': reason must be at most {TAG_VALUE_LIMIT} characters of letters, digits, "
                f"spaces and _ . : / = + - @ (AWS tag values), got {reason!r}"
            )
    return problems
