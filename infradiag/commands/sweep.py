"""`infradiag sweep`: triage environments (once, or every N minutes), keep the history, report the change."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from infradiag.commands.common import (
    ConfigOption,
    Level,
    PlaybooksOption,
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
    playbooks: PlaybooksOption = None,
    config: ConfigOption = None,
) -> None:
    """Triage environments, once or every --every, keep their history and print what changed.

    Each sweep stores every environment's result in the history, prints what changed since the last sweep
    and one Cloud Logging JSON line per environment on stderr; lines an earlier sweep could not print come
    first, marked late. Exit code: 1 if any environment has a finding at --fail-on or above, else 3 if any
    could not be judged (or the lines could not be written), else 0. Interrupted (Ctrl-C, SIGTERM): the
    last complete sweep's code, or 3 if no sweep completed."""
    code: int | None = None  # the last complete sweep's; None: no sweep completed, nothing was judged
    restore = _sigterm_as_interrupt()
    try:
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
        while True:
            started = time.monotonic()
            code = _sweep_once(mine, books, accepted, location, judge, settings, config, task)
            if interval is None or once:
                break
            runtime.collect_cycles_now()  # between sweeps, where it delays nothing
            time.sleep(max(0.0, started + interval - time.monotonic()))
    except KeyboardInterrupt:
        if code is None:
            typer.echo("infradiag: sweep interrupted before any sweep completed: cannot tell", err=True)
            code = 3
        else:
            typer.echo("infradiag: sweep interrupted; the exit code is the last complete sweep's", err=True)
    finally:
        restore()
    raise typer.Exit(code)


def _sigterm_as_interrupt() -> Callable[[], None]:
    """From now on SIGTERM does what Ctrl-C does (Cloud Run Jobs send it on timeout or cancel): it goes to
    the SIGINT handler of the moment, which ends in KeyboardInterrupt, so a sweep stops the same way and
    never exits 0 unjudged; without a Python SIGINT handler (SIGINT ignored) it raises KeyboardInterrupt
    itself. Returns what puts the previous SIGTERM handler back."""
    import signal
    import threading

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


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
    """One sweep of `environments`: commits each result, then prints what the history still has to
    deliver (earlier sweeps' undelivered lines, then this sweep's changes and log lines); returns the worst
    exit code. If the lines cannot be written, one line on stderr and exit 1 (a finding) or 3, never 0."""
    from contextlib import ExitStack

    from infradiag import runtime
    from infradiag.sweep.delivery import DeliveryError, deliver_all
    from infradiag.sweep.run import sweep_targets

    with ExitStack() as stack:
        targets = [stack.enter_context(open_target(name, None, config)) for name in environments]
        results = runtime.run(sweep_targets(targets, books, location, judge, settings, accepted, task))
    code = worst_exit([r.record.exit_code for r in results])
    try:
        deliver_all(location, results, sys.stdout, sys.stderr)
    except DeliveryError as error:
        _say(f"infradiag: {error.one_line()}")
        _silence(error.stream)
        raise typer.Exit(1 if code == 1 else 3) from None
    return code


def _say(line: str) -> None:
    try:
        if sys.stderr is not None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
    except (OSError, ValueError):  # stderr is the stream that failed
        pass


def _silence(stream: str) -> None:
    """Point a failed stdout/stderr at /dev/null: what is still buffered would fail again when Python
    flushes it on exit, printing a traceback-like "Exception ignored" message."""
    target = {"stdout": sys.stdout, "stderr": sys.stderr}.get(stream)
    if target is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, target.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (e.g. a test's in-memory stream)
        pass


def worst_exit(codes: list[int]) -> int:
    """1 if any environment has a finding at the threshold, else 3 if any could not be judged, else 0."""
    if 1 in codes:
        return 1
    return 3 if 3 in codes else 0
