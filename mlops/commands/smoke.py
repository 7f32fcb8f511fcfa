"""`mlops smoke`: invoke a stack's deployed endpoints with a sample payload; report latency and the answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._aws import AwsError, AwsSession
from .._io import fail, write_atomically
from .._smoke import Payload, PayloadError, SmokeResult, smoke_endpoint
from .._stacks import StackLoadError, load_stack
from .plan import ProjectDir
from .promote import BAD_REQUEST, DEFAULT_PAYLOAD, GATE_REFUSED, Profile

console = Console(soft_wrap=True, highlight=False)


def _table(stack: str, results: list[SmokeResult]) -> Table:
    table = Table("model", "endpoint", "status", "latency ms", "answer", "result", title=f"smoke test of {stack}")
    for r in results:
        latency = "-" if r.latency_ms is None else f"{r.latency_ms:.1f}"
        verdict = "[green]ok[/]" if r.ok else f"[red]FAILED[/] {escape(r.problem or '')}"
        table.add_row(escape(r.model), escape(r.endpoint), r.status or "-", latency, escape(r.answer or "-"), verdict)
    return table


def smoke(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack whose endpoints are tested.")],
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Test only this model's endpoint (repeatable).")
    ] = None,
    payload: Annotated[
        Path | None,
        typer.Option("--payload", help="CSV with a header row (default: model_code/sample.csv).", dir_okay=False),
    ] = None,
    any_answer: Annotated[
        bool, typer.Option("--any-answer", help="Accept any successful answer (not only the model server's JSON).")
    ] = False,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the results as JSON.", dir_okay=False)
    ] = None,
    profile: Profile = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Invoke each model endpoint of a deployed stack once (text/csv in, JSON out) and check the answer.

    Exits 1 when an endpoint is missing, not InService, fails, or answers with the wrong number of predictions.
    """
    try:
        loaded = load_stack(project_dir, stack)
    except StackLoadError as exc:
        fail(str(exc), BAD_REQUEST)
    settings = loaded.settings
    declared = [m.name for m in settings.models]
    unknown = [name for name in model or [] if name not in declared]
    if unknown:
        fail(f"--model {', '.join(unknown)}: stack '{stack}' declares no such model (it has: "
             f"{', '.join(declared) or 'none'})", BAD_REQUEST)
    chosen = [m for m in settings.models if not model or m.name in model]
    if not chosen:
        fail(f"stack '{stack}' declares no models ({settings.project}:models); nothing to smoke-test", BAD_REQUEST)
    try:
        sample = Payload.read(payload or project_dir / DEFAULT_PAYLOAD)
        session = AwsSession(profile)
    except (PayloadError, AwsError) as exc:
        fail(str(exc), BAD_REQUEST)
    results = [
        smoke_endpoint(session, settings.region, m.name, settings.model_resource_name(m), sample, not any_answer)
        for m in chosen
    ]
    console.print(_table(stack, results))
    if json_file is not None:
        document = {"stack": stack, "payload": str(sample.path), "rows": sample.rows,
                    "results": [r.to_json() for r in results]}
        write_atomically(json_file, json.dumps(document, indent=2) + "\n")
    failed = [r for r in results if not r.ok]
    if failed:
        fail(f"{len(failed)} of {len(results)} endpoint(s) of stack '{stack}' failed the smoke test", GATE_REFUSED)
