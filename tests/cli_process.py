"""`infradiag` in a process of its own, as a script or a shell starts it: for what only a process shows
(signals, pipes, a twin served beside the test). run_cli in tests/conftest.py runs a command in-process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from tests.conftest import ROOT, SCENARIOS

Stream = int | IO[Any] | None


def start_infradiag(
    *args: str, stdout: Stream = subprocess.PIPE, stderr: Stream = subprocess.PIPE
) -> subprocess.Popen[str]:
    """`python -m infradiag ARGS...` started in the repository root with NO_COLOR set; its output text, on
    pipes unless `stdout` or `stderr` say otherwise (None: this process's own)."""
    argv, env = [sys.executable, "-m", "infradiag", *args], {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen(argv, cwd=ROOT, stdout=stdout, stderr=stderr, text=True, env=env)


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
def served_twin(scenario: Path, *options: str, stderr: Stream = subprocess.PIPE) -> Iterator[ServedTwin]:
    """`infradiag twin serve SCENARIO --format json OPTIONS...` in its own process, with the addresses of its
    first line of output. A twin still running when the block ends is terminated, killed if it has not
    stopped 30 s later: no test leaves one behind."""
    process = start_infradiag("twin", "serve", str(scenario), "--format", "json", *options, stderr=stderr)
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
