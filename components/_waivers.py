"""Waivers as components write them: one tag per waived guardrail, `waiver:<rule>` = reason.

The policy pack reads them (policy/_waivers.py, its own copy of the format, since components must not import
the pack; tests/policy checks that the two agree). AWS tag limits: keys 128 and values 256 characters of
letters, digits, spaces and _ . : / = + - @.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

WAIVER_TAG_PREFIX = "waiver:"
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]+$")


def waiver_problems(waivers: Mapping[str, str]) -> list[str]:
    """What makes these waivers unusable as AWS tags; empty when they are fine."""
    problems = []
    for rule, reason in waivers.items():
        if not _TAG_TEXT.match(rule) or len(WAIVER_TAG_PREFIX + rule) > 128:
            problems.append(f"waiver rule name {rule!r} is not a valid tag key")
        if not reason.strip() or len(reason) > 256 or not _TAG_TEXT.match(reason):
            problems.append(
                f"waiver {rule!r}: the reason must be 1-256 characters of letters, digits, spaces and _ . : / = + - @, "
                f"got {reason!r}"
            )
    return problems


def waiver_tags(waivers: Mapping[str, str]) -> dict[str, str]:
    """The tags that waive each rule with its reason."""
    return {f"{WAIVER_TAG_PREFIX}{rule}": reason for rule, reason in waivers.items()}
