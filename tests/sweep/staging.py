"""The environment most sweep tests sweep: `staging`, the twin of one scenario, in a temporary infradiag.toml,
and the commands on it as a user types them (tests/sweep/sweeping.py holds the general helpers)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import IO, Any

from tests.cli_process import start_infradiag
from tests.sweep.sweeping import environ, run_here, write_config

Stream = int | IO[Any]


def staging_config(folder: Path, scenario: Path, history: str = "") -> Path:
    """An infradiag.toml in `folder` whose one environment, staging, is the twin of `scenario`, plus an
    optional [history] table."""
    return write_config(folder, {"staging": scenario}, history)


def sweep_args(config: Path, *options: str) -> list[str]:
    """The arguments of `infradiag sweep staging --config CONFIG OPTIONS...`."""
    return ["sweep", "staging", "--config", str(config), *options]


def sweep_staging(config: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`infradiag sweep staging --config CONFIG OPTIONS...`, run in this process as run_here runs it."""
    return run_here(*sweep_args(config, *options))


def start_sweep(
    config: Path, *options: str, stdout: Stream = subprocess.PIPE, stderr: Stream = subprocess.PIPE
) -> subprocess.Popen[str]:
    """`infradiag sweep staging --config CONFIG OPTIONS...` started in a process of its own, in the
    environment sweeping.environ gives; its output text, on pipes unless `stdout` or `stderr` say
    otherwise."""
    return start_infradiag(*sweep_args(config, *options), stdout=stdout, stderr=stderr, env=environ())


def staging_history(config: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`infradiag history staging --config CONFIG OPTIONS...`, run in this process as run_here runs it."""
    return run_here("history", "staging", "--config", str(config), *options)
