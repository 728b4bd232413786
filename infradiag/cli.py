"""The `infradiag` command. Each command lives in infradiag/commands/ and imports its heavy modules
inside the command body, so `infradiag --help` stays instant."""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, NoReturn, TextIO

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


# Exit code of a run whose answer could not be written (README, Exit codes: "could not judge").
CANNOT_TELL = 3
# Exit code of a run stopped by Ctrl-C, as shells give 128 + SIGINT.
INTERRUPTED = 130
# What a full disk, a closed pipe or a broken terminal raise while the report is written.
_OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EPIPE, errno.EIO, errno.EFBIG})


def main() -> None:
    """Entry point: runs the app; bad input ends with one line on stderr and exit code 2, output that cannot
    be written (full disk, closed pipe) with one line and exit code 3, Ctrl-C with exit code 130."""
    sys.stdout = _GuardedStdout(sys.stdout)
    try:
        app()
    except UsageError as error:
        from infradiag.report.literal import visible  # a file name or value may hold control characters

        print(f"infradiag: {visible(error.one_line(), one_line=True)}", file=sys.stderr)
        sys.exit(error.exit_code)
    except OutputUnwritable as unwritable:
        _cannot_write(unwritable.error)
    except OSError as error:
        if error.errno not in _OUTPUT_ERRORS:
            raise
        _cannot_write(error)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as done:
        # Typer ends a command interrupted by Ctrl-C with exit code 130 and no word (typer/core.py, _main);
        # no command of ours exits 130 itself.
        if done.code == INTERRUPTED:
            _interrupted()
        raise


class OutputUnwritable(OSError):
    """Standard output refused what a command wrote (full disk, closed pipe, broken terminal): an OSError to
    whoever handles its own output (a sweep keeps its lines for the next one), but without the errno, which
    Typer would take on a closed pipe for its own and end with exit code 1 and no word (typer/core.py)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _GuardedStdout:
    """sys.stdout, whose write and flush raise OutputUnwritable instead of an output OSError."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            if error.errno not in _OUTPUT_ERRORS:
                raise
            raise OutputUnwritable(error) from error

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            if error.errno not in _OUTPUT_ERRORS:
                raise
            raise OutputUnwritable(error) from error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _cannot_write(error: OSError) -> NoReturn:
    _quiet_stdout()
    where = f" {error.filename}" if error.filename else ""
    print(f"infradiag: cannot write the output{where}: {error.strerror}", file=sys.stderr)
    sys.exit(CANNOT_TELL)


def _interrupted() -> NoReturn:
    _quiet_stdout()
    print("infradiag: interrupted", file=sys.stderr)
    sys.exit(INTERRUPTED)


def _quiet_stdout() -> None:
    # What is still buffered for stdout would fail again when the interpreter flushes it at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        return
