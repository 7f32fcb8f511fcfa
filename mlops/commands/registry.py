"""`mlops approve` and `mlops versions`: a model's registered versions, their metrics and approval status."""

from __future__ import annotations

import enum
import json
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._aws import AwsError, AwsSession
from .._io import err_console, fail, write_atomically
from .._registry import (
    REASON_LIMIT,
    Approval,
    PackageRef,
    PackageVersion,
    describe_version,
    list_versions,
    preferred_metric_names,
    read_metrics,
    registry_of,
    set_approval,
)
from .._stacks import LoadedStack, StackLoadError, existing_stacks, load_stack
from ..settings import ModelSettings
from .plan import ProjectDir
from .promote import BAD_REQUEST, GATE_REFUSED, Profile

console = Console(soft_wrap=True, highlight=False)

StackOption = Annotated[str, typer.Option("--stack", "-s", help="Stack whose model registry group is used.")]
ModelOption = Annotated[str, typer.Option("--model", "-m", help="Model name (mlops:models[].name).")]


class Decision(enum.StrEnum):
    """What `mlops approve` records."""

    APPROVED = "Approved"
    REJECTED = "Rejected"
    PENDING = "PendingManualApproval"


def _stack_and_model(project_dir: Path, stack: str, model: str) -> tuple[LoadedStack, ModelSettings]:
    try:
        loaded = load_stack(project_dir, stack)
    except StackLoadError as exc:
        fail(str(exc), BAD_REQUEST)
    found = loaded.model(model)
    if found is None:
        declared = ", ".join(m.name for m in loaded.settings.models) or "none"
        fail(f"--model {model}: stack '{stack}' declares no such model (it has: {declared})", BAD_REQUEST)
    return loaded, found


def _pinned_by(project_dir: Path) -> dict[str, list[str]]:
    """Which stacks pin which package ARN. A stack file that does not load is skipped with a warning."""
    stacks: list[LoadedStack] = []
    for name in existing_stacks(project_dir):
        try:
            stacks.append(load_stack(project_dir, name))
        except StackLoadError as exc:
            err_console.print(f"warning: 'pinned by' ignores stack {name}: {escape(str(exc).splitlines()[0])}")
    pins: dict[str, list[str]] = {}
    for loaded in sorted(stacks, key=lambda s: (s.stage, s.name)):  # in promotion order: dev, staging, prod
        for m in loaded.settings.models:
            if m.model_package_arn:
                pins.setdefault(m.model_package_arn, []).append(loaded.name)
    return pins


def approve(
    stack: StackOption,
    model: ModelOption,
    version: Annotated[int, typer.Option("--version", min=1, help="Version number in the model's group.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the registry as ApprovalDescription).")],
    status: Annotated[Decision, typer.Option("--status", help="The decision to record.")] = Decision.APPROVED,
    profile: Profile = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Record a reviewer's decision on a registered model version (Approved by default), with a reason.

    The group is the one the stack reads its versions from: the group of the version it pins, else its own.
    """
    if not reason.strip() or len(reason) > REASON_LIMIT:
        fail(f"--reason: give the reason for the decision (1 to {REASON_LIMIT} characters)", BAD_REQUEST)
    loaded, found = _stack_and_model(project_dir, stack, model)
    ref = PackageRef(registry_of(loaded.settings, found), version)
    try:
        session = AwsSession(profile)
        current = describe_version(session, ref)
        if current is None:
            fail(f"{ref} does not exist in the model registry ({ref.registry}); `mlops versions --stack {stack} "
                 f"--model {model}` lists the versions", GATE_REFUSED)
        if current.status not in (None, "Completed"):
            fail(f"{ref} is {current.status}: only a version whose registration completed can be approved or "
                 "rejected", GATE_REFUSED)
        if current.approval == status.value:
            console.print(f"{ref} is already {status.value} (reason: {escape(current.reason or '-')}); "
                          "nothing changed")
            return
        set_approval(session, ref, Approval(status.value), reason.strip())
    except AwsError as exc:
        fail(str(exc), BAD_REQUEST)
    console.print(f"{ref}: {current.approval or 'no status'} -> {status.value} (reason: {escape(reason.strip())})")
    pinned = _pinned_by(project_dir).get(ref.arn, [])
    if pinned and status is not Decision.APPROVED:
        console.print(f"[yellow]note:[/] {', '.join(pinned)} still pin(s) this version and keep serving it until "
                      "another version is promoted; `mlops promote` now refuses it")


def _metrics(session: AwsSession, versions: list[PackageVersion], region: str) -> list[dict[str, float]]:
    found: list[dict[str, float]] = []
    for v in versions:
        values: dict[str, float] = {}
        if v.metrics_uri:
            try:
                values = read_metrics(session, v.metrics_uri, region)
            except AwsError as exc:
                err_console.print(f"warning: metrics of version {v.version}: {escape(str(exc))}")
        found.append(values)
    return found


def versions(
    stack: StackOption,
    model: ModelOption,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="Newest versions to show.")] = 20,
    json_file: Annotated[Path | None, typer.Option("--json", help="Also write them as JSON.", dir_okay=False)] = None,
    profile: Profile = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """List a model's registered versions, newest first: approval status, evaluation metrics, who pins them."""
    loaded, found = _stack_and_model(project_dir, stack, model)
    registry = registry_of(loaded.settings, found)
    try:
        session = AwsSession(profile)
        listed = list_versions(session, registry, limit)
        metrics = _metrics(session, listed, registry.region)
    except AwsError as exc:
        fail(str(exc), BAD_REQUEST)
    pins = _pinned_by(project_dir)
    columns = preferred_metric_names(metrics)
    table = Table("version", "approval", "status", "created (UTC)", *columns, "pinned by", "reason",
                  title=f"{registry}")
    rows: list[dict[str, Any]] = []
    for v, values in zip(listed, metrics, strict=True):
        created = v.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if v.created else "-"
        shown = [f"{values[c]:.4f}" if c in values else "-" for c in columns]
        table.add_row(str(v.version), v.approval or "-", v.status or "-", created, *shown,
                      ", ".join(pins.get(v.arn, [])) or "-", escape(v.reason or "-"))
        rows.append({"version": v.version, "arn": v.arn, "approval": v.approval, "status": v.status,
                     "created": v.created.isoformat() if v.created else None, "metrics": values,
                     "pinnedBy": pins.get(v.arn, []), "reason": v.reason})
    console.print(table if listed else f"no versions registered in {registry}")
    if json_file is not None:
        write_atomically(json_file, json.dumps({"group": registry.group, "versions": rows}, indent=2) + "\n")
