"""The `infradiag` command: its command tree (one module per command in infradiag/commands/, each importing
its heavy modules inside the command body) and how the process ends: bad input in one line with exit code 2,
output that cannot be written with 3, Ctrl-C with 130, SIGTERM with 143, never a traceback.

This module imports only the standard library when it loads: the command tree (Typer and the command
modules) is imported inside `main`, so a Ctrl-C while the process is still starting up is an interrupt like
any other, and `infradiag --help` pays for nothing it does not print (bench/help_start.py)."""

from __future__ import annotations

import atexit
import errno
import gc
import os
import signal
import sys
from functools import cache
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from infradiag.errors import UsageError
from infradiag.unused_parts import keep_unused_parts_out

if TYPE_CHECKING:
    import typer
    from typer._click.exceptions import UsageError as ClickUsageError

# Exit code of a run whose answer could not be written (README, Exit codes: "could not judge").
CANNOT_TELL = 3
# Exit codes of a run stopped by Ctrl-C or SIGTERM, as shells give 128 + the signal's number.
INTERRUPTED = 128 + signal.SIGINT
TERMINATED = 128 + signal.SIGTERM
# What a full disk, a closed pipe or a broken terminal raise while the report is written.
_OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EPIPE, errno.EIO, errno.EFBIG})


@cache
def build_app() -> typer.Typer:
    """The `infradiag` Typer app with every command registered, plain `--help` (no Rich) and each command's
    examples (infradiag/commands/examples.py)."""
    import typer

    from infradiag.commands.capture import capture
    from infradiag.commands.examples import EXAMPLES
    from infradiag.commands.gate import gate
    from infradiag.commands.helpformat import with_plain_help
    from infradiag.commands.history import history
    from infradiag.commands.playbooks import playbooks_app
    from infradiag.commands.probe import probe
    from infradiag.commands.sweep import sweep
    from infradiag.commands.triage import triage
    from infradiag.commands.twin import twin_app

    app = typer.Typer(
        name="infradiag",
        help="Triage a GCP staging environment: probe, collect evidence, walk five whys, rank the fixes.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.command()(triage)
    app.command()(capture)
    app.command()(gate)
    app.command()(probe)
    app.command()(sweep)
    app.command()(history)
    app.add_typer(twin_app, name="twin")
    app.add_typer(playbooks_app, name="playbooks")
    with_plain_help(app, EXAMPLES)  # after every registration: it reaches each command registered
    return app


def __getattr__(name: str) -> Any:
    # `from infradiag.cli import app` (tests, Typer's CliRunner) builds the app on first use.
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point: runs the command line; bad input (a flag, an argument, a file) ends with one line on
    stderr and exit code 2, output that cannot be written (full disk, closed pipe) with one line and exit
    code 3, Ctrl-C with "infradiag: interrupted" and 130, SIGTERM with "infradiag: terminated" and 143, also
    while the process is still starting up."""
    keep_unused_parts_out()
    stop = _Stop()
    previous = stop.catch_sigterm()
    sys.stdout = _GuardedStdout(sys.stdout)
    try:
        _start_children_early(sys.argv[1:])
        code = _run(sys.argv[1:])
    except UsageError as error:
        _usage_error(error)
    except OutputUnwritable as unwritable:
        _cannot_write(unwritable.error)
    except OSError as error:
        if error.errno not in _OUTPUT_ERRORS:
            raise
        _cannot_write(error)
    except KeyboardInterrupt:
        stop.end()
    except SystemExit as done:
        # Typer ends a command interrupted by Ctrl-C with exit code 130 and no word (typer/core.py, _main);
        # no command of ours exits 130 itself.
        if done.code == INTERRUPTED:
            stop.end()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if code == INTERRUPTED:
        stop.end()
    sys.exit(code)


# The commands that triage start their probe and environment processes first thing, so that the children load
# on the other core while this process loads the command. Started here, before Typer and the commands'
# modules load, they are about 0.15 s further along when the triage needs them; a command line that turns
# out to be wrong leaves them nothing to do, and they end with this process.
_TRIAGING = frozenset({"triage", "gate", "sweep"})


def _start_children_early(args: list[str]) -> None:
    if not args or args[0] not in _TRIAGING or {"--help", "-h"} & set(args):
        return
    # These commands collect cycles only when idle (runtime.collect_cycles_only_when_idle): from here on,
    # so that none runs over the objects the imports below create either.
    gc.disable()
    from infradiag.collect import environment_process
    from infradiag.probe import process

    process.prestart()
    environment_process.prestart()


def script() -> NoReturn:
    """The console script (`infradiag`, `python -m infradiag`): main(), then the process ends at once.

    Tearing the interpreter down (freeing every module's objects, a last garbage collection) took 0.4 s of a
    cold triage (issue 16) and does nothing for the user. Everything a normal exit does for them still
    happens: the exit handlers run (atexit's, which include weakref.finalize's, e.g. temporary
    directories), and stdout and stderr are flushed, an output that cannot be written ending in exit code
    3 as anywhere else."""
    try:
        main()
        status = 0
    except SystemExit as done:
        status = _exit_status(done.code)
    # What the interpreter's own exit would run first; CPython's hook, also used by multiprocessing.
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except OutputUnwritable as unwritable:
        _say_cannot_write(unwritable.error)
        status = CANNOT_TELL
    except (OSError, ValueError):  # ValueError: stdout was closed, by a command that wrote a file there
        status = status or CANNOT_TELL
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        status = status or CANNOT_TELL  # nowhere left to say why
    os._exit(status)


def _exit_status(code: object) -> int:
    """The exit status of sys.exit(code), as the interpreter turns it into one."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _run(args: list[str]) -> int:
    """Run the command line `args`; its exit code. Typer's standalone mode is off so that its errors reach
    here, to be said in one line, instead of its usage block."""
    import typer
    import typer.main
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
    from typer._click.exceptions import UsageError as ClickUsageError

    command = typer.main.get_command(build_app())
    try:
        # Not standalone, Typer returns the code a command exits with (typer.Exit), 130 for a Ctrl-C it
        # caught, and the command's return value (None) when it just returns (typer/core.py, _main).
        result = command.main(args=args, prog_name="infradiag", standalone_mode=False)
    except NoArgsIsHelpError as error:
        error.show()  # `infradiag` alone: its help, on stderr, exit code 2
        return error.exit_code
    except ClickUsageError as error:
        raise _one_line(error) from None
    except ClickException as error:
        from infradiag.report.literal import visible

        print(f"infradiag: {visible(error.format_message(), one_line=True)}", file=sys.stderr)
        return error.exit_code
    except typer.Abort:
        print("infradiag: aborted", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0


def _one_line(error: ClickUsageError) -> UsageError:
    """A usage error of Typer's (an unknown option, a bad value, a missing argument) as one of ours:
    `WHERE: PROBLEM (fix: ...)`, where names the option or argument, else the command."""
    from typer._click.exceptions import BadParameter, MissingParameter, NoSuchOption

    path = error.ctx.command_path if error.ctx is not None else "infradiag"
    fix = f"see `{path} --help`"
    message = error.message.strip().rstrip(".").removeprefix("Value error, ")  # pydantic's, via Typer
    # Click's and pydantic's sentences ("No such command ...", "Input should be ...") read on after "WHERE: ".
    message = message[:1].lower() + message[1:] if message[1:2].islower() else message
    if isinstance(error, MissingParameter):
        param = error.param
        name = (param.opts[0] if param.opts else param.name) if param is not None else "a parameter"
        if param is not None and param.param_type_name == "argument":
            name = (param.metavar or param.name or "").upper()
        return UsageError(path, f"missing {error.param_type or 'argument'} {name}", fix)
    if isinstance(error, BadParameter):
        param = error.param
        if error.param_hint is not None:
            hint = error.param_hint
            where = hint if isinstance(hint, str) else " / ".join(hint)
        elif param is not None and param.param_type_name == "option" and param.opts:
            where = max(param.opts, key=len)
        elif param is not None:
            where = (param.metavar or param.name or path).upper()
        else:
            where = path
        return UsageError(where, message, fix)
    if isinstance(error, NoSuchOption):
        if error.possibilities:
            fix = f"did you mean {' or '.join(sorted(error.possibilities))}? {fix}"
        return UsageError(path, f"no such option {error.option_name}", fix)
    return UsageError(path, message, fix)


def _usage_error(error: UsageError) -> NoReturn:
    from infradiag.report.literal import visible  # a file name or value may hold control characters

    print(f"infradiag: {visible(error.one_line(), one_line=True)}", file=sys.stderr)
    sys.exit(error.exit_code)


class _Stop:
    """How a run stopped by a signal ends: SIGTERM (what Cloud Run, Kubernetes and CI runners send to stop a
    job) does what Ctrl-C does, so the command stops the same way (its twin stopped, nothing half-written),
    and the last line names which of the two it was."""

    def __init__(self) -> None:
        self.terminated = False

    def catch_sigterm(self) -> Any:
        """Route SIGTERM to the SIGINT handler of the moment (which ends in KeyboardInterrupt) from now on;
        returns the previous handler (None off the main thread, where signals cannot be handled)."""
        import threading

        if threading.current_thread() is not threading.main_thread():
            return None

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            self.terminated = True
            handler = signal.getsignal(signal.SIGINT)
            if callable(handler):
                handler(signal.SIGINT, frame)
            else:  # SIGINT ignored (a background job of a shell): stop all the same
                raise KeyboardInterrupt

        return signal.signal(signal.SIGTERM, on_sigterm)

    def end(self) -> NoReturn:
        _quiet_stdout()
        if self.terminated:
            print("infradiag: terminated", file=sys.stderr)
            sys.exit(TERMINATED)
        print("infradiag: interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)


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
    _say_cannot_write(error)
    sys.exit(CANNOT_TELL)


def _say_cannot_write(error: OSError) -> None:
    _quiet_stdout()
    where = f" {error.filename}" if error.filename else ""
    print(f"infradiag: cannot write the output{where}: {error.strerror}", file=sys.stderr)


def _quiet_stdout() -> None:
    # What is still buffered for stdout would fail again when the interpreter flushes it at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        return
