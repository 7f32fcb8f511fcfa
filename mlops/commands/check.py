"""`mlops check`: run the policy pack's own rules over a stack's offline plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from policy.offline import CheckReport, RuleResult, check_plan

from .._io import fail, write_atomically
from ..plan import Plan
from .plan import ProjectDir, load_plan

console = Console()

EXIT_VIOLATIONS = 1
LEVEL_STYLE = {"mandatory": "red", "advisory": "yellow", "disabled": "dim"}


def plan_for_policies(plan: Plan) -> dict[str, Any]:
    """The plan's JSON contract plus each resource's property dependencies, which the stack rules join on."""
    data = plan.to_json()
    for entry, recorded in zip(data["resources"], plan.resources, strict=True):
        entry["propertyDependencies"] = recorded.property_dependencies
    return data


def _environment(data: dict[str, Any]) -> str | None:
    value = data.get("outputs", {}).get("environment")
    return value if isinstance(value, str) else None


def _print_rules(report: CheckReport) -> None:
    # Plain lines, not a table: URNs and rule names must survive a narrow CI log without truncation.
    console.print(f"[bold]rules run on {report.stack}[/] ({len(report.results)})", highlight=False)
    for result in report.results:
        style = "green" if result.status in ("pass", "waived") else LEVEL_STYLE.get(result.level.value, "")
        if result.status == "error":
            style = "bold red"
        console.print(
            f"  [{style}]{escape(result.status):<16}[/] {result.level.value:<9} {result.kind:<8} {result.rule.name}",
            highlight=False,
            soft_wrap=True,
        )


def _print_violations(result: RuleResult) -> None:
    level = result.level.value
    console.print(
        f"\n[bold {LEVEL_STYLE[level]}]{level.upper()}[/] [bold]{result.rule.name}[/] "
        f"({len(result.violations)}) - {escape(result.rule.description)}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"  fix: {escape(result.rule.fix)}", highlight=False, soft_wrap=True)
    for violation in result.violations:
        console.print(f"  - {escape(violation.urn)}\n      {escape(violation.message)}", highlight=False,
                      soft_wrap=True)


def _print_report(report: CheckReport) -> None:
    _print_rules(report)
    for result in report.results:
        if result.violations:
            _print_violations(result)
        for error in result.errors:
            console.print(f"[bold red]rule error[/] {result.rule.name}: {escape(error)}", soft_wrap=True)
    if report.waived:
        console.print("\n[bold]waivers[/] (violations the resource waives, with its reason)", highlight=False)
        for waived in report.waived:
            console.print(
                f"  {waived.rule}\n    {escape(waived.urn)}\n    reason: {escape(waived.reason)}",
                highlight=False,
                soft_wrap=True,
            )
    unknown = [(r.rule.name, n) for r in report.results for n in r.not_evaluated]
    for rule, note in unknown:
        console.print(f"[dim]not evaluated[/] {rule}: {escape(note)}", soft_wrap=True)
    advisory = len(report.violations) - len(report.mandatory)
    verdict = "[bold green]passed[/]" if report.passed else "[bold red]failed[/]"
    console.print(
        f"\n{verdict}: stack {report.stack} checked as {report.environment or 'unknown (strictest)'}; "
        f"{len(report.results)} rules over {report.resources} resources; {len(report.mandatory)} mandatory and "
        f"{advisory} advisory violation(s), {len(report.waived)} waived, {len(report.errors)} rule error(s)",
        highlight=False,
        soft_wrap=True,
    )


def check(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack to check (stacks/Pulumi.<stack>.yaml).")],
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON to this file.", dir_okay=False)
    ] = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Run the policy pack over a stack's offline plan; exit 1 on a mandatory violation."""
    if json_file is not None and not json_file.resolve().parent.is_dir():
        fail(f"--json {json_file}: directory {json_file.resolve().parent} does not exist")
    data = plan_for_policies(load_plan(project_dir, stack))
    report = check_plan(data, _environment(data))
    if json_file is not None:
        write_atomically(json_file, json.dumps(report.to_json(), indent=2) + "\n")
    _print_report(report)
    if json_file is not None:
        console.print(f"report written to {json_file}")
    if not report.passed:
        raise typer.Exit(EXIT_VIOLATIONS)
