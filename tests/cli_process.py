"""`infradiag` in a process of its own, as a script or a shell starts it: for what only a process shows
(signals, pipes, kills, a twin served beside the test, an installed copy). run_cli in tests/conftest.py runs a
command in-process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from tests.conftest import CLI_ENV, ROOT, SCENARIOS

Stream = int | IO[Any] | None
# The checkout's own infradiag, in a fresh interpreter.
CHECKOUT_INFRADIAG = (sys.executable, "-m", "infradiag")


def start_infradiag(
    *args: str,
    stdout: Stream = subprocess.PIPE,
    stderr: Stream = subprocess.PIPE,
    command: Sequence[str] = CHECKOUT_INFRADIAG,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[str]:
    """`COMMAND ARGS...` (`python -m infradiag ARGS...` of the checkout unless `command` names another
    infradiag) started in `cwd` (the repository root unless said) with `env` as its whole environment (None:
    this process's, NO_COLOR set); its output text, on pipes unless `stdout` or `stderr` say otherwise (None:
    this process's own)."""
    environment = {**os.environ, "NO_COLOR": "1"} if env is None else dict(env)
    argv = [*command, *args]
    return subprocess.Popen(argv, cwd=cwd, stdout=stdout, stderr=stderr, text=True, env=environment)


@contextmanager
def reaped(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """`process` for the block; still running when the block ends (an assertion failed, a timeout), it is
    killed and waited for: no test leaves one behind."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def run_process(
    *args: str,
    command: Sequence[str] = CHECKOUT_INFRADIAG,
    cwd: Path = ROOT,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`infradiag ARGS...` in a process of its own, as typed in a shell (NO_COLOR, 160 columns, unless `env`
    is the whole environment; `command` and `cwd` as start_infradiag takes them), run to its end: killed, and
    TimeoutExpired raised, past `timeout` seconds."""
    environment = {**os.environ, **CLI_ENV} if env is None else env
    with reaped(start_infradiag(*args, command=command, cwd=cwd, env=environment)) as process:
        out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def start_hung_run(folder: Path, command: str = "triage") -> subprocess.Popen[str]:
    """`infradiag COMMAND --scenario ... --deadline 10m` on staging-healthy, but with backend's health check
    hanging: the run waits there until its deadline, long enough for a test to signal it."""
    doc = yaml.safe_load((SCENARIOS / "staging-healthy.yaml").read_text())
    doc["endpoints"]["backend"] = {"*": {"fault": "hang"}}
    scenario = folder / "hung.yaml"
    scenario.write_text(yaml.safe_dump(doc))
    return start_infradiag(command, "--scenario", str(scenario), "--deadline", "10m")


@dataclass
class ServedTwin:
    """A running `infradiag twin serve` and the addresses it printed first (rest, grpc, services, ...)."""

    process: subprocess.Popen[str]
    addresses: dict[str, Any]

    def interrupt(self) -> int:
        """Ctrl-C to the twin; its exit code once it has stopped (within 30 s, else TimeoutExpired)."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


@contextmanager
def served_twin(
    scenario: Path,
    *options: str,
    stderr: Stream = subprocess.PIPE,
    command: Sequence[str] = CHECKOUT_INFRADIAG,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
) -> Iterator[ServedTwin]:
    """`infradiag twin serve SCENARIO --format json OPTIONS...` in its own process (`command`, `cwd` and `env`
    as start_infradiag takes them), with the addresses of its first line of output. A twin still running
    when the block ends is terminated, killed if it has not stopped 30 s later: no test leaves one behind."""
    process = start_infradiag(
        "twin",
        "serve",
        str(scenario),
        "--format",
        "json",
        *options,
        stderr=stderr,
        command=command,
        cwd=cwd,
        env=env,
    )
    try:
        assert process.stdout is not None
        yield ServedTwin(process, json.loads(process.stdout.readline()))
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
