"""Shared test helpers: paths, and running the CLI exactly as a user types it."""

from __future__ import annotations

import contextlib
import gc
import inspect
import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
# What a user's shell gives every command of these tests: no colour, a wide terminal.
CLI_ENV = {"NO_COLOR": "1", "COLUMNS": "160"}

# A suite started in the background of a non-interactive shell (`./dev test &`, some CI runners) inherits
# SIGINT ignored, and so would every process it starts: Ctrl-C as a user presses it is what these tests
# send, so each test process (and its children) starts from Python's own default.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_configure(config: pytest.Config) -> None:
    """Under `--dist loadgroup`, pytest-xdist groups a test by renaming its `_nodeid`; a pytest whose node id
    no longer reads `_nodeid` (9.2) would silently spread each group over every worker (a scenario triaged
    once per worker, one virtualenv reinstalled by several at once), so the run refuses to start."""
    if config.getoption("dist", default="no") != "loadgroup" or hasattr(config, "workerinput"):
        return
    if "_nodeid" not in inspect.getsource(inspect.unwrap(pytest.Item.nodeid.fget)):  # type: ignore[attr-defined]
        raise pytest.UsageError(
            f"pytest {pytest.__version__} ignores pytest-xdist's loadgroup: install the versions "
            "pyproject.toml pins (./dev test does)"
        )


def run_cli(
    *args: str, cwd: Path = ROOT, timeout: float = 120, env: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """`infradiag ARGS...` as typed in a shell (cwd, NO_COLOR, 160 columns, stdout and stderr pipes), run by
    the console script's own entry point (`infradiag.cli.main`) inside this test process, the way Typer's
    CliRunner drives an app: an interpreter start-up per case would be most of the suite's time. What only a
    process shows (signals, the console script, imports at start-up, output to a terminal) is tested with
    `run_process` (tests/cli_process.py). `env` adds to or overrides those variables for this run (None:
    unset); `timeout` applies to `run_process` only."""
    del timeout
    from infradiag.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        environment_set({**CLI_ENV, **(env or {})}),
        contextlib.chdir(cwd),
        _argv(["infradiag", *args]),
        _process_state(),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        try:
            main()
        except SystemExit as done:
            code = _exit_code(done.code, stderr)
        else:
            code = 0
    return subprocess.CompletedProcess(["infradiag", *args], code, stdout.getvalue(), stderr.getvalue())


def _exit_code(code: object, stderr: io.StringIO) -> int:
    # sys.exit's own rule: None is 0, an int is itself, anything else is printed and gives 1.
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=stderr)
    return 1


@contextlib.contextmanager
def environment_set(values: Mapping[str, str | None]) -> Iterator[None]:
    """os.environ with `values` set (None: unset) until the block ends, then as it was."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _process_state() -> Iterator[None]:
    """What a command may set for its process as a whole, put back after it: signal handlers (`twin serve`
    stops on SIGINT and SIGTERM) and automatic garbage collection (a triage turns it off)."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    collecting = gc.isenabled()
    try:
        yield
    finally:
        for number, handler in handlers.items():
            if handler is not None:  # None: set outside Python, not ours to put back
                signal.signal(number, handler)
        if collecting:
            gc.enable()


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


@pytest.fixture
def root() -> Path:
    return ROOT
