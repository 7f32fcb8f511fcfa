"""The `mlops` command line: offline plan, diff and checks of the stacks, and model promotion."""

from __future__ import annotations

import typer

from .commands import plan as plan_commands

app = typer.Typer(
    name="mlops",
    help="Plan, check and promote the MLOps stacks. Nothing here needs the Pulumi CLI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(plan_commands.plan)
app.command()(plan_commands.diff)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
