"""Reading Pulumi.yaml and a stack file into the config the Pulumi engine would hand the program."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

SECRET_PLACEHOLDER = "[secret]"


class StackFileError(Exception):
    """The project or stack file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class StackConfig:
    """What `pulumi up -s <stack>` would give the program: project name, config values, secret keys."""

    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)
    stack_file: Path | None = None


def _load_yaml(path: Path) -> Any:
    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise StackFileError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    except UnicodeDecodeError as exc:
        raise StackFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_project(project_dir: Path) -> dict[str, Any]:
    """Pulumi.yaml as a dict; errors name the file."""
    path = project_dir / "Pulumi.yaml"
    if not path.is_file():
        raise StackFileError(f"{path}: no Pulumi.yaml here; run from the project directory or pass --project-dir")
    data = _load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise StackFileError(f"{path}: must be a mapping with a string 'name'")
    return data


def stack_names(project_dir: Path) -> list[str]:
    """Stacks that have a stack file in the project's stackConfigDir."""
    config_dir = project_dir / str(read_project(project_dir).get("stackConfigDir", "."))
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))


def stack_file_path(project_dir: Path, stack: str) -> Path:
    """Where a stack's config file lives (stackConfigDir/Pulumi.<stack>.yaml)."""
    config_dir = project_dir / str(read_project(project_dir).get("stackConfigDir", "."))
    return config_dir / f"Pulumi.{stack}.yaml"


def _as_config_value(value: Any) -> str:
    # The engine hands structured values to the program as JSON and scalars as their text.
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def read_stack_config(project_dir: Path, stack: str, path: Path | None = None) -> StackConfig:
    """The config of one stack: Pulumi.yaml defaults overlaid by the stack file; `secure:` values masked.

    `path` reads another copy of the stack's file (e.g. an edited one, to diff against the committed one).
    """
    project = read_project(project_dir)
    name = project["name"]
    path = path or stack_file_path(project_dir, stack)
    if not path.is_file():
        known = ", ".join(stack_names(project_dir)) or "none"
        raise StackFileError(f"stack '{stack}': no stack file {path} (stacks with a file: {known})")
    data = _load_yaml(path) or {}
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: must be a mapping with a 'config' key")
    raw = data.get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping of keys to values")

    config: dict[str, str] = {}
    for key, declared in (project.get("config") or {}).items():
        if isinstance(declared, dict) and "default" in declared:
            config[_qualify(name, key)] = _as_config_value(declared["default"])
        elif not isinstance(declared, dict):
            config[_qualify(name, key)] = _as_config_value(declared)
    secret_keys: list[str] = []
    for key, value in raw.items():
        qualified = _qualify(name, str(key))
        if isinstance(value, dict) and set(value) == {"secure"}:
            # The plan cannot decrypt (no Pulumi backend here): the program sees a placeholder marked secret.
            config[qualified] = SECRET_PLACEHOLDER
            secret_keys.append(qualified)
        else:
            config[qualified] = _as_config_value(value)
    return StackConfig(name, stack, config, secret_keys, path)
