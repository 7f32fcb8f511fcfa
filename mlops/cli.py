"""The `mlops` command line: offline plan, diff and checks of the stacks, and model promotion."""

from __future__ import annotations

import typer

from .commands import check as check_commands
from .commands import plan as plan_commands
from .commands import promote as promote_commands
from .commands import registry as registry_commands
from .commands import smoke as smoke_commands

app = typer.Typer(
    name="mlops",
    help="Plan, check and promote the MLOps stacks. Nothing here needs the Pulumi CLI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(plan_commands.plan)
app.command()(plan_commands.diff)
app.command()(check_commands.check)
app.command()(promote_commands.promote)
app.command()(promote_commands.pin)
app.command()(registry_commands.approve)
app.command()(registry_commands.versions)
app.command()(smoke_commands.smoke)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
