"""JSON text that Pulumi passes around (structured config, provider inputs, policy documents)."""

from __future__ import annotations

import json
from typing import Any


def decode_json_text(value: Any) -> Any:
    """The value a JSON object or array text stands for; anything else (scalars, other text) unchanged."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
