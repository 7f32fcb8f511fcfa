"""Running the Pulumi program in-process against the recording mock monitor."""

from __future__ import annotations

import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ..settings import PLACEHOLDER_ACCOUNT_ID
from ._mocks import PlanMocks
from ._recorder import SECRET_SHOWN_AS, RecordedResource, RecordingMonitor, to_plain
from ._stackfile import StackConfig, read_project, read_stack_config

DEFAULT_REGION = "us-east-1"


class PlanError(Exception):
    """The program refused the stack (bad config) or failed; the message says why."""


@dataclass
class Plan:
    """What a stack declares: every resource registration in order, and the stack outputs."""

    project: str
    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The plan contract: {project, stack, resources: [...], outputs}."""
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }

    def by_urn(self) -> dict[str, RecordedResource]:
        """Resources keyed by URN."""
        return {r.urn: r for r in self.resources}

    def of_type(self, type_token: str) -> list[RecordedResource]:
        """Resources of one type token, in registration order."""
        return [r for r in self.resources if r.type == type_token]


async def _resolve(value: Any) -> Any:
    output = pulumi.Output.from_input(value)
    if await output.is_secret():
        return SECRET_SHOWN_AS
    return to_plain(await output.future())


def program_path(project_dir: Path) -> Path:
    """The program file Pulumi runs for the project (Pulumi.yaml `main`, default `__main__.py`)."""
    main = read_project(project_dir).get("main")
    path = project_dir / main if isinstance(main, str) else project_dir
    return path / "__main__.py" if path.is_dir() else path


def run_program(
    program: Callable[[], object],
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str] | None = None,
) -> Plan:
    """Run any Pulumi program callable under the recording mocks; the plan and the component tests use it."""
    account_id = config.get(f"{project}:accountId", PLACEHOLDER_ACCOUNT_ID)
    region = config.get("aws:region", DEFAULT_REGION)
    mocks = PlanMocks(account_id, region)
    monitor = RecordingMonitor(mocks)

    runtime_settings.ROOT.set(None)  # a fresh root stack per plan, so several plans can run in one process
    set_all_config(dict(config), secret_keys or [])
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    runtime_settings.SETTINGS.rpc_manager.clear()
    try:
        _sync_await(run_pulumi_func(program))
    except pulumi.RunError as exc:
        raise PlanError(str(exc)) from None
    except pulumi.InputPropertyError as exc:
        # A component refusing one of its inputs: a user mistake with a message, not a crash.
        raise PlanError(f"stack '{stack}': {exc.property_path}: {exc.reason}") from None
    except pulumi.InputPropertiesError as exc:
        problems = "\n".join(f"  - {e['property_path']}: {e['reason']}" for e in exc.errors or [])
        raise PlanError(f"stack '{stack}': {exc.message}\n{problems}") from None
    root = runtime_settings.get_root_resource()
    exported = sorted(getattr(root, "outputs", {}).items())
    outputs = {name: _sync_await(_resolve(value)) for name, value in exported}
    return Plan(project, stack, list(monitor.recorded), outputs)


def plan_config(config: StackConfig, program: Path, overrides: dict[str, str] | None = None) -> Plan:
    """Run the program file for an already-read stack config (with optional config overrides)."""
    if str(program.parent) not in sys.path:
        sys.path.insert(0, str(program.parent))
    return run_program(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        config.project,
        config.stack,
        {**config.config, **(overrides or {})},
        config.secret_keys,
    )


def run_plan(project_dir: Path, stack: str, overrides: dict[str, str] | None = None) -> Plan:
    """Plan one stack of the project offline: no Pulumi CLI, no provider plugin, no AWS call."""
    config = read_stack_config(project_dir, stack)
    return plan_config(config, program_path(project_dir), overrides)
