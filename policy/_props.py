"""Reading resource properties the way the policy analyzer hands them over.

Properties arrive under the engine's camelCase names. Under `pulumi preview` they are wrapped in
`pulumi_policy`'s unknown-checking proxy: mappings and lists are `Mapping` / `Sequence` objects (not `dict` /
`list`), and reading a value that is not known yet raises `UnknownValueError`, which the analyzer turns into an
advisory "can't run policy during preview" note. The helpers here therefore test for the abstract types and
let that error propagate instead of guessing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError


def is_list(value: Any) -> bool:
    """A JSON array (a list or the proxy's sequence), not a string."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    """A value that may be one item or a list of them (IAM `Action`, `Resource`, ...) as a list."""
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path` inside nested mappings/lists, or `default` when any step is missing or null."""
    current = value
    for key in path:
        if isinstance(key, int):
            if not is_list(current) or not -len(current) <= key < len(current):
                return default
            current = current[key]
        else:
            if not isinstance(current, Mapping) or key not in current:
                return default
            current = current[key]
        if current is None:
            return default
    return current


def is_set(value: Any, *path: str | int) -> bool:
    """Whether the input at `path` is given (not missing, null or empty).

    A value that is not known yet during a preview counts as given: it is an output of another resource (a key
    ARN, a topic ARN, subnet ids) that will hold a real value at `pulumi up`, when the analyzer checks again
    with every input known. Checks that compare values (`== "aws:kms"`) use `get` and let the unknown propagate.
    """
    try:
        found = get(value, *path)
    except UnknownValueError:
        return True
    if is_list(found) or isinstance(found, Mapping):
        return len(found) > 0
    return found not in (None, "")


def is_true(value: Any) -> bool:
    """True for a boolean true, and for the string "true" that provider inputs carry."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    """False for a boolean false and the string "false"; None (unset) is not false."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def number(value: Any) -> float | None:
    """A numeric input as a float (the wire format has only doubles; strings from provider config too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def json_value(value: Any) -> Any:
    """A JSON document input (IAM policies, pipeline definitions, provider tags) as a Python value.

    Documents usually arrive as JSON text; some arrive already decoded. None when the text is not JSON (for
    example a secret masked by the offline plan).
    """
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def tags_of(props: Mapping[str, Any]) -> dict[str, str]:
    """The resource's own `tags` input."""
    tags = get(props, "tags")
    if not isinstance(tags, Mapping):
        return {}
    return {str(key): str(tags[key]) for key in tags}
