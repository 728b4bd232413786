"""The `infradiag` command. Each command lives in infradiag/commands/ and imports its heavy modules
inside the command body, so `infradiag --help` stays instant."""

from __future__ import annotations

import sys

import typer

from infradiag.commands.gate import gate
from infradiag.commands.history import history
from infradiag.commands.playbooks import playbooks_app
from infradiag.commands.probe import probe
from infradiag.commands.sweep import sweep
from infradiag.commands.triage import triage
from infradiag.commands.twin import twin_app
from infradiag.errors import UsageError

app = typer.Typer(
    name="infradiag",
    help="Triage a GCP staging environment: probe, collect evidence, walk five whys, rank the fixes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(triage)
app.command()(gate)
app.command()(probe)
app.command()(sweep)
app.command()(history)
app.add_typer(twin_app, name="twin")
app.add_typer(playbooks_app, name="playbooks")


def main() -> None:
    """Entry point: runs the app; bad input ends with one line on stderr and exit code 2."""
    try:
        app()
    except UsageError as error:
        print(f"infradiag: {error.one_line()}", file=sys.stderr)
        sys.exit(error.exit_code)
