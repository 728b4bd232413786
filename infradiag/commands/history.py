"""`infradiag history`: the timeline of an environment's sweeps (verdicts and findings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from infradiag.commands.common import ConfigOption, Format, format_option
from infradiag.errors import UsageError


def history(
    environment: Annotated[str, typer.Argument(help="Environment name, as swept.")],
    output: Annotated[
        Format, format_option(Format.terminal, Format.json, help="Output format.")
    ] = Format.terminal,
    # Bounded: SQLite's LIMIT takes a 64-bit integer, and Python's int does not stop there.
    limit: Annotated[int, typer.Option(min=1, max=1_000_000, help="Show the last N sweeps.")] = 20,
    history: Annotated[
        Path | None,
        typer.Option(help="History database (default: history.path in infradiag.toml)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the last sweeps of an environment, oldest first, with the findings each one added or resolved."""
    from infradiag.config.model import HistoryConfig
    from infradiag.history import HistoryLocation, HistoryStore
    from infradiag.report.literal import visible
    from infradiag.sweep.timeline import timeline, timeline_json, timeline_lines

    if history is not None:
        location = HistoryLocation.from_config(HistoryConfig(), history)
    else:
        from infradiag.config import load_config

        location = HistoryLocation.from_config(load_config(config).history)
    database = location.database(environment)
    if database.is_dir():
        raise UsageError(
            str(database),
            "is a folder, not a history database",
            f"pass --history {database / 'history.sqlite'}",
        )
    if not database.is_file():
        raise UsageError(
            str(database),
            f"no history database for {environment!r}",
            f"run `infradiag sweep {environment}` first, or pass --history FILE",
        )
    with HistoryStore(database) as store:
        entries = timeline(store, environment, limit)
        if not entries:
            known = ", ".join(store.environments()) or "none"
            raise UsageError(
                str(database), f"no sweeps of {environment!r} (swept: {known})", "check the environment name"
            )
    if output is Format.json:
        import json

        sys.stdout.write(json.dumps(timeline_json(environment, str(database), entries), indent=2) + "\n")
    else:
        # Names and titles come from outside: control characters are shown, never sent to the terminal.
        sys.stdout.write(visible("\n".join(timeline_lines(environment, entries))) + "\n")
