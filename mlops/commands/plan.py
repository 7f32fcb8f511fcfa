"""`mlops plan` and `mlops diff`: what a stack declares, and what differs between two."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .._io import fail, write_atomically
from ..plan import Plan, PlanError, StackFileError, plan_config, program_path, read_stack_config, run_plan
from ..plan._diff import PlanDiff, diff_plans
from ..plan._render import mermaid, table, tree

console = Console()

ProjectDir = Annotated[
    Path, typer.Option("--project-dir", help="Directory holding Pulumi.yaml.", file_okay=False, exists=True)
]


class Format(enum.StrEnum):
    """How `mlops plan` prints the plan."""

    TREE = "tree"
    TABLE = "table"
    MERMAID = "mermaid"


def load_plan(project_dir: Path, stack_or_file: str) -> Plan:
    """Plan a stack by name, or a stack file by path (its stack name taken from `Pulumi.<stack>.yaml`)."""
    try:
        candidate = Path(stack_or_file)
        if candidate.suffix in (".yaml", ".yml") and candidate.name.startswith("Pulumi."):
            if not candidate.is_file():
                fail(f"{candidate}: no such stack file")
            stack = candidate.name[len("Pulumi.") : -len(candidate.suffix)]
            config = read_stack_config(project_dir, stack, candidate)
            return plan_config(config, program_path(project_dir))
        return run_plan(project_dir, stack_or_file)
    except (StackFileError, PlanError) as exc:
        fail(str(exc))


def plan(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack to plan (stacks/Pulumi.<stack>.yaml).")],
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the plan as JSON to this file.", dir_okay=False)
    ] = None,
    output_format: Annotated[Format, typer.Option("--format", "-f", help="How to print it.")] = Format.TREE,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Render what a stack declares, offline: the program runs under Pulumi's mock monitor, no AWS call."""
    result = load_plan(project_dir, stack)
    if json_file is not None:
        write_atomically(json_file, json.dumps(result.to_json(), indent=2, sort_keys=False) + "\n")
    if output_format is Format.MERMAID:
        typer.echo(mermaid(result), nl=False)
        return
    console.print(tree(result) if output_format is Format.TREE else table(result))
    outputs = Table("output", "value", title="stack outputs")
    for name, value in result.outputs.items():
        outputs.add_row(name, value if isinstance(value, str) else json.dumps(value))
    console.print(outputs)
    if json_file is not None:
        console.print(f"plan written to {json_file}")


def _print_diff(result: PlanDiff) -> None:
    if result.empty:
        console.print(f"[green]{result.stack_a} and {result.stack_b} declare the same resources and inputs[/]")
        return
    for stack, urns in ((result.stack_a, result.only_in_a), (result.stack_b, result.only_in_b)):
        for urn in urns:
            console.print(f"[yellow]only in {stack}:[/] {urn}", highlight=False, soft_wrap=True)
    for urn, changes in result.changed.items():
        console.print(f"[cyan]~ {urn}[/]", highlight=False, soft_wrap=True)
        for change in changes:
            console.print(f"    {change.path}: {change.before!r} -> {change.after!r}", highlight=False, soft_wrap=True)
    console.print(
        f"{len(result.only_in_a)} only in {result.stack_a}, {len(result.only_in_b)} only in {result.stack_b}, "
        f"{len(result.changed)} changed"
    )


def diff(
    stack_a: Annotated[str, typer.Argument(help="A stack name, or a stack file path (Pulumi.<stack>.yaml).")],
    stack_b: Annotated[str, typer.Argument(help="The stack (or stack file) to compare it with.")],
    json_file: Annotated[Path | None, typer.Option("--json", help="Also write the diff as JSON.")] = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Show what differs between two stacks' plans: what promoting A's settings to B would change."""
    result = diff_plans(load_plan(project_dir, stack_a), load_plan(project_dir, stack_b))
    if json_file is not None:
        write_atomically(json_file, json.dumps(result.to_json(), indent=2) + "\n")
    _print_diff(result)
