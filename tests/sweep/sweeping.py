"""Helpers for sweep tests: a temporary infradiag.toml whose environments point at scenario files, and
`infradiag sweep` / `infradiag history` run as a user types them, with extra environment variables: in this
process (run_here) unless the process itself is what a test is about (run_paused, staging.start_sweep)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.cli_process import CHECKOUT_INFRADIAG, reaped, start_infradiag
from tests.conftest import CLI_ENV, ROOT, SCENARIOS, run_cli

HEALTHY = SCENARIOS / "staging-healthy.yaml"
INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
CONNECTOR = "projects/acme-staging/locations/us-central1/connectors/staging-conn"


def write_config(folder: Path, environments: dict[str, Path], history: str = "") -> Path:
    """An infradiag.toml in `folder` with one twin environment per entry, plus an optional [history] table."""
    text = "".join(
        f'[environments.{name}]\ntwin = "{scenario}"\n\n' for name, scenario in environments.items()
    )
    path = folder / "infradiag.toml"
    path.write_text(text + history)
    return path


def command(*args: str) -> list[str]:
    return [*CHECKOUT_INFRADIAG, *args]


def environ(**extra: str) -> dict[str, str]:
    """The whole environment of an infradiag these tests start: this process's without CLOUD_RUN_* (a sweep
    reads its task share there), NO_COLOR, 160 columns, and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUD_RUN_")}
    return {**env, **CLI_ENV, **extra}


def run_here(*args: str, cwd: Path = ROOT, **extra: str) -> subprocess.CompletedProcess[str]:
    """`infradiag ARGS...` in the environment environ() gives (no CLOUD_RUN_* variables, `extra` set), run in
    this process by run_cli (no interpreter start-up)."""
    unset: dict[str, str | None] = {name: None for name in os.environ if name.startswith("CLOUD_RUN_")}
    return run_cli(*args, cwd=cwd, env={**unset, **extra})


def log_lines(stderr: str) -> list[dict[str, Any]]:
    """The structured sweep log lines among stderr's lines (gRPC may log plain text there too)."""
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "infradiag.sweep/v1"]


def sweep_count(database: Path) -> int:
    if not database.exists():
        return 0
    with closing(sqlite3.connect(database)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM sweeps").fetchone()[0])
        except sqlite3.OperationalError:  # schema not created yet
            return 0


def run_paused(
    args: list[str], marker: Path, stop: signal.Signals, cwd: Path = ROOT, **extra: str
) -> subprocess.CompletedProcess[str]:
    """`infradiag ARGS...` with the test-only pause between committing a sweep and writing its lines
    (sweep.delivery), started in a process of its own in the environment environ() gives (`extra` set), sent
    `stop` once it is there; its output and exit code."""
    from infradiag.sweep.delivery import PAUSE_BEFORE_DELIVERY_ENV

    started = start_infradiag(
        *args, cwd=cwd, env=environ(**{PAUSE_BEFORE_DELIVERY_ENV: str(marker)}, **extra)
    )
    with reaped(started) as process:
        deadline = time.monotonic() + 120
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the sweep never reached the pause before its lines"
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)
