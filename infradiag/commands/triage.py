"""`infradiag triage`: the whole pipeline, one report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from infradiag.commands.common import (
    ConfigOption,
    EnvironmentArgument,
    Format,
    Level,
    ScenarioOption,
    exit_code,
    open_target,
    parse_duration,
)


def triage(
    environment: EnvironmentArgument = None,
    scenario: ScenarioOption = None,
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.terminal,
    fail_on: Annotated[
        Level, typer.Option("--fail-on", help="Exit 1 at a finding of this priority or higher.")
    ] = Level.P1,
    deadline: Annotated[
        str, typer.Option(help="Overall deadline, e.g. 60s; exit 3 when it passes.")
    ] = "120s",
    playbooks: Annotated[
        Path | None, typer.Option(help="Playbook directory (default: the bundled one).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Diagnose an environment (or a scenario's twin) and print the ranked remediation plan."""
    import asyncio

    from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks
    from infradiag.triage import triage as run_triage

    seconds = parse_duration(deadline, "--deadline")
    books = load_playbooks(playbooks or PLAYBOOK_DIR)
    with open_target(environment, scenario, config) as target:
        try:
            report, _ = asyncio.run(asyncio.wait_for(run_triage(target, books), timeout=seconds))
        except TimeoutError:
            typer.echo(f"infradiag: the deadline of {deadline} passed before a verdict", err=True)
            raise typer.Exit(3) from None
    if output is Format.json:
        import json

        sys.stdout.write(json.dumps(report.to_json_dict(), indent=2) + "\n")
    else:
        from rich.console import Console

        from infradiag.report.terminal import render

        render(report, Console())
    raise typer.Exit(exit_code(report, fail_on.value))
