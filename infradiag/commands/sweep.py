"""`infradiag sweep`: triage environments (once, or every N minutes), keep the history, report the change."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infradiag.commands.common import (
    ConfigOption,
    Level,
    accepted_findings,
    exit_code,
    open_target,
    parse_duration,
)
from infradiag.errors import UsageError

if TYPE_CHECKING:
    from infradiag.diagnose.playbook import Playbook
    from infradiag.history import HistoryLocation
    from infradiag.report.model import TriageReport
    from infradiag.suppress import Suppression
    from infradiag.sweep.partition import TaskShare
    from infradiag.sweep.run import SweepSettings


def sweep(
    environments: Annotated[list[str], typer.Argument(help="Environment names from infradiag.toml.")],
    every: Annotated[
        str | None, typer.Option(help="Sweep again at this interval, e.g. 5m, until interrupted.")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One sweep, even with --every.")] = False,
    history: Annotated[
        Path | None,
        typer.Option(
            help="History database (default: history.path in infradiag.toml, .infradiag/history.sqlite)."
        ),
    ] = None,
    fail_on: Annotated[
        Level, typer.Option("--fail-on", help="Exit 1 at a finding of this priority or higher.")
    ] = Level.P1,
    deadline: Annotated[str, typer.Option(help="Deadline per environment, e.g. 120s.")] = "120s",
    concurrency: Annotated[int, typer.Option(min=1, help="Environments triaged at once.")] = 4,
    flap_window: Annotated[int, typer.Option(min=2, help="Sweeps looked back at for flapping.")] = 10,
    flap_changes: Annotated[
        int, typer.Option(min=1, help="Probe state changes in the window that count as flapping.")
    ] = 3,
    playbooks: Annotated[
        Path | None, typer.Option(help="Playbook directory (default: the bundled one).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Triage each environment, store the result in the history, print what changed since the last sweep
    and one Cloud Logging JSON line per environment on stderr. Exit code: 1 if any environment has a
    finding at --fail-on or above, else 3 if any could not be judged, else 0."""
    import os

    from infradiag import runtime
    from infradiag.config import load_config
    from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks
    from infradiag.history import HistoryLocation
    from infradiag.sweep.partition import share, task_from_environ
    from infradiag.sweep.run import SweepSettings

    interval = parse_duration(every, "--every") if every is not None else None
    if interval is not None and interval <= 0:
        raise UsageError("--every", f"{every!r} is not a positive interval", "write e.g. 5m")
    settings = SweepSettings(
        deadline_s=parse_duration(deadline, "--deadline"),
        concurrency=concurrency,
        flap_window=flap_window,
        flap_changes=flap_changes,
    )
    loaded = load_config(config)
    for name in environments:
        loaded.environment(name)  # an unknown name is a UsageError before anything runs
    location = HistoryLocation.from_config(loaded.history, history)
    for name in environments:
        location.database(name)
    books = load_playbooks(playbooks or PLAYBOOK_DIR)
    task = task_from_environ(os.environ)
    mine = share(environments, task)
    if not mine:
        typer.echo(f"infradiag: task {task.index} of {task.count} has no environment to sweep", err=True)
        raise typer.Exit(0)
    # Each environment's `suppressions` file (accepted findings) counts for neither exit code nor alert.
    accepted = {name: accepted_findings(name, None, None, config, books) for name in mine}

    def judge(report: TriageReport) -> int:
        return exit_code(report, fail_on.value)

    runtime.collect_cycles_only_when_idle()
    code = 0
    try:
        while True:
            started = time.monotonic()
            code = _sweep_once(mine, books, accepted, location, judge, settings, config, task)
            if interval is None or once:
                break
            runtime.collect_cycles_now()  # between sweeps, where it delays nothing
            time.sleep(max(0.0, started + interval - time.monotonic()))
    except KeyboardInterrupt:
        typer.echo("infradiag: sweep interrupted", err=True)
    raise typer.Exit(code)


def _sweep_once(
    environments: list[str],
    books: list[Playbook],
    accepted: dict[str, list[Suppression]],
    location: HistoryLocation,
    judge: Callable[[TriageReport], int],
    settings: SweepSettings,
    config: Path | None,
    task: TaskShare,
) -> int:
    """One sweep of `environments`; prints the changes and the log lines; returns the worst exit code."""
    from contextlib import ExitStack

    from infradiag import runtime
    from infradiag.sweep.logline import log_line
    from infradiag.sweep.render import change_lines
    from infradiag.sweep.run import sweep_targets

    with ExitStack() as stack:
        targets = [stack.enter_context(open_target(name, None, config)) for name in environments]
        results = runtime.run(sweep_targets(targets, books, location, judge, settings, accepted))
    for result in results:
        sys.stdout.write("\n".join(change_lines(result.record, result.change)) + "\n")
        sys.stdout.flush()
        sys.stderr.write(log_line(result.record, result.change, task) + "\n")
        sys.stderr.flush()
    return worst_exit([r.record.exit_code for r in results])


def worst_exit(codes: list[int]) -> int:
    """1 if any environment has a finding at the threshold, else 3 if any could not be judged, else 0."""
    if 1 in codes:
        return 1
    return 3 if 3 in codes else 0
