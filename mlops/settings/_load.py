"""Reading the settings from Pulumi config (or a stack file) and turning failures into one clear message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from .._json import decode_json_text
from ._stack import StackSettings

CONFIG_NAMESPACE = "mlops"
# Keys outside our namespace that the settings read.
FOREIGN_KEYS = {"aws:region": "region"}


class SettingsError(Exception):
    """A stack's configuration is invalid. `problems` lists every problem, each naming its config key."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"stack '{stack}' has {len(problems)} configuration problem(s):\n{lines}")


def _key_of(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return f"{CONFIG_NAMESPACE}:<stack>"
    head, *rest = loc
    key = next((k for k, v in FOREIGN_KEYS.items() if v == head), f"{CONFIG_NAMESPACE}:{head}")
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _describe(error: Mapping[str, Any]) -> list[str]:
    loc = tuple(error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "value_error" and not loc:
        # Cross-field rules already name their keys; split the joined list back into problems.
        return [p.strip() for p in message.removeprefix("Value error, ").splitlines() if p.strip()]
    if error.get("type") == "extra_forbidden":
        return [f"{_key_of(loc)}: unknown key (a typo?); remove it or check the spelling"]
    if error.get("type") == "missing":
        return [f"{_key_of(loc)}: required but not set"]
    shown = error.get("input")
    got = "" if isinstance(shown, dict | list) else f" (got {shown!r})"
    return [f"{_key_of(loc)}: {message}{got}"]


def load_settings(
    project: str, stack: str, config: Mapping[str, Any]
) -> StackSettings:
    """Validate a stack's config (keys like `mlops:environment`, `aws:region`) into StackSettings.

    Raises SettingsError listing every problem; never returns a half-valid object.
    """
    raw: dict[str, Any] = {"project": project, "stack": stack}
    # Pulumi hands structured config to programs as JSON text; scalars stay text and pydantic converts them.
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if key in FOREIGN_KEYS:
            raw[FOREIGN_KEYS[key]] = decode_json_text(value)
        elif namespace == CONFIG_NAMESPACE:
            if name in ("project", "stack"):
                raise SettingsError(stack, [f"{key}: reserved; the project and stack names come from Pulumi"])
            raw[name] = decode_json_text(value)
    try:
        return StackSettings.model_validate(raw)
    except ValidationError as exc:
        problems = [p for e in exc.errors() for p in _describe(e)]
        raise SettingsError(stack, problems) from None


def read_pulumi_config() -> dict[str, Any]:
    """Every config value the Pulumi engine handed this program (keys like `mlops:environment`).

    `pulumi.Config` reads one key at a time and cannot list them, but the settings must see every key to
    reject typos, so this reads the same two sources the SDK's `get_config` does.
    """
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
