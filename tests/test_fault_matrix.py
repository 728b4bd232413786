"""The fault matrix: broken APIs and broken endpoints under a short deadline, through the real CLI.

Each case writes a scenario derived from staging-healthy (two services: `backend` gets the endpoint fault,
`auth` stays healthy) or a config pointing at a dead port, runs `infradiag triage` (every API fault with every
endpoint fault) or `infradiag gate` (a diagonal), and checks what issue 11 asks: a report on stdout that
parses and is valid, no traceback, the documented exit code, never 0 while a probe fails, the run ending
within the deadline plus a margin, and no thread of the run (a twin handler waiting out a delay) outliving it.

Each case is its own test, run in-process by the CLI's entry point: an interpreter start-up per case would
be most of the matrix's time. One case (a delayed gRPC API and a hung endpoint) also runs as a process, to see
the process itself end by the deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from infradiag.collect.environment_process import EnvironmentProcess
from infradiag.probe.process import ProbeProcess
from tests.conftest import ROOT, SCENARIOS, run_cli
from tests.report.schema import assert_valid_report

# What a case waits out at most (a hung endpoint, a delayed API); most cases end in a fraction of it. The
# API reads of every case must still end well inside it on two cores loaded by four workers (at 1.5 s they
# did not: exit 3 for missing evidence).
DEADLINE_S = 3.0
# Over the deadline, for diagnosis and the report on a loaded machine. What this guards against is waiting
# out a delay (ten minutes) or a stopping twin (it once waited 30 s for a delayed call), not milliseconds.
MARGIN_S = 2.0
# A dead port is refused at once, which only shows against a deadline long enough to tell it from waiting:
# at this one the reads would end after 5.1 s (its reserve for the report kept back).
DEAD_PORT_DEADLINE_S = 6.0
# A delay no triage may wait out: were a handler thread of the twin to outlive the run, it would still be
# there, and a process would hang for ten minutes and hit OUTER_TIMEOUT_S.
FAR_BEYOND_MS = 600_000
# Only a catch-all for a process that never ends. The deadline itself is checked on the command's own clock.
OUTER_TIMEOUT_S = 180.0
# A thread of the run that is ending (a call the stopped twin cut) may need a moment of a loaded CPU to be
# gone; one still there after this waits on something the run left behind.
THREAD_GRACE_S = 5.0
APIS = ("run", "vpcaccess", "compute", "sql", "monitoring", "iam")
FAULTY, HEALTHY_SERVICE = "backend", "auth"

# API faults, as `apiFaults` of the scenario; DEAD_PORT is a config whose endpoints nothing serves.
API_FAULTS: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "denied-monitoring": [{"api": "monitoring", "error": "PERMISSION_DENIED"}],
    "unavailable-all": [{"api": api, "error": "UNAVAILABLE"} for api in APIS],
    "slow-vpcaccess": [{"api": "vpcaccess", "delayMs": FAR_BEYOND_MS}],
}
# For the gate only: a delay on the gRPC API (Monitoring) rather than a REST one.
SLOW_MONITORING = {"slow-monitoring": [{"api": "monitoring", "delayMs": FAR_BEYOND_MS}]}
DEAD_PORT = "dead-port"
ENDPOINT_FAULTS: dict[str, dict[str, Any] | None] = {
    "healthy": None,
    "503": {"status": 503, "body": "Service Unavailable"},
    "reset": {"fault": "reset"},
    "hang": {"fault": "hang"},
    "refuse": {"fault": "refuse"},
    "slow-body": {"fault": "slow-body"},
}
# Without services nothing is probed, so the endpoint fault cannot matter: these API faults run once.
NOTHING_PROBED = ("unavailable-all", DEAD_PORT)

Case = tuple[str, str, str]  # command, API fault, endpoint fault


def triage_cases() -> list[tuple[str, str]]:
    cases = [
        (api, endpoint) for api in API_FAULTS for endpoint in ENDPOINT_FAULTS if api not in NOTHING_PROBED
    ]
    return [*cases, ("unavailable-all", "healthy"), (DEAD_PORT, "healthy")]


GATE_CASES = [
    ("none", "healthy"),
    ("denied-monitoring", "503"),
    ("unavailable-all", "reset"),
    ("slow-monitoring", "hang"),
    (DEAD_PORT, "refuse"),
    ("slow-vpcaccess", "slow-body"),
]
CASES: list[Case] = [("triage", api, endpoint) for api, endpoint in triage_cases()] + [
    ("gate", api, endpoint) for api, endpoint in GATE_CASES
]
# Every case with a delayed API, and the one it delays.
SLOW_APIS = {"slow-vpcaccess": "vpcaccess", "slow-monitoring": "monitoring"}
SLOW_CASES = [case for case in CASES if case[1] in SLOW_APIS]
DEAD_PORT_CASES = [case for case in CASES if case[1] == DEAD_PORT]
# The process case: the gRPC API delayed and the endpoint hung.
PROCESS_CASE: Case = ("gate", "slow-monitoring", "hang")


def case_id(case: Case) -> str:
    return "-".join(case)


def expected_code(api: str, endpoint: str) -> int:
    """The README's exit codes: 3 when nothing could be judged (no service listed) or evidence is missing,
    1 when a probe fails (before missing evidence: a failing service is known not fit), else 0."""
    if api in NOTHING_PROBED:
        return 3
    if endpoint != "healthy":
        return 1
    return 0 if api == "none" else 3


def deadline_of(api: str) -> float:
    return DEAD_PORT_DEADLINE_S if api == DEAD_PORT else DEADLINE_S


@dataclass
class Run:
    """One finished CLI run, when (time.time()) it ended, and the threads it left running."""

    command: str
    api: str
    endpoint: str
    code: int
    stdout: str
    stderr: str
    ended: float  # the command's work, up to its report
    killed: bool  # a process still running after OUTER_TIMEOUT_S
    threads_left: list[str]

    def label(self) -> str:
        return f"{self.command} {self.api} x {self.endpoint}"


# google-auth must never reach for a real metadata server or credentials from a test.
NO_REAL_GOOGLE = {
    "GCE_METADATA_HOST": "127.0.0.1:1",
    "GCE_METADATA_IP": "127.0.0.1:1",
    "NO_GCE_CHECK": "True",
    "GOOGLE_CLOUD_PROJECT": "acme-staging",
}


def scenario(folder: Path, api: str, endpoint: str) -> Path:
    """staging-healthy cut to two services, with the API fault and `backend`'s endpoint fault."""
    data = yaml.safe_load((SCENARIOS / "staging-healthy.yaml").read_text())
    keep = (FAULTY, HEALTHY_SERVICE)
    data["run"]["services"] = [s for s in data["run"]["services"] if s["name"].rsplit("/", 1)[-1] in keep]
    data["endpoints"] = {name: data["endpoints"][name] for name in keep}
    fault = ENDPOINT_FAULTS[endpoint]
    if fault is not None:
        data["endpoints"][FAULTY] = {"*": fault}
    data["apiFaults"] = {**API_FAULTS, **SLOW_MONITORING}[api]
    data.pop("expect", None)
    path = folder / f"{api}-{endpoint}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def dead_port() -> Iterator[int]:
    """A loopback port that refuses every connection: bound (so nobody else takes it), never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def dead_config(folder: Path, port: int) -> Path:
    path = folder / "infradiag.toml"
    path.write_text(
        "[environments.dead]\n"
        'project = "acme-staging"\n'
        'region = "us-central1"\n'
        f'api_endpoint = "http://127.0.0.1:{port}"\n'
        f'monitoring_endpoint = "127.0.0.1:{port}"\n'
        "now = 2026-09-15T23:06:52Z\n"
    )
    return path


def arguments(case: Case, folder: Path, port: int) -> list[str]:
    command, api, endpoint = case
    folder.mkdir(parents=True, exist_ok=True)
    if api == DEAD_PORT:
        target = ["dead", "--config", str(dead_config(folder, port))]
    else:
        target = ["--scenario", str(scenario(folder, api, endpoint))]
    return [command, *target, "--deadline", f"{deadline_of(api):g}s", "--format", "json"]


def run_in_process(case: Case, folder: Path, port: int) -> Run:
    args = arguments(case, folder, port)
    before = set(threading.enumerate())
    with pytest.MonkeyPatch.context() as patch:
        for name, value in NO_REAL_GOOGLE.items():
            patch.setenv(name, value)
        result = run_cli(*args)
    ended = time.time()
    # The readers of the probe and environment processes, which are kept for the next runs of this process
    # (and end with them), are not the run's: one started here when the run started those processes. More
    # than one of a kind is a reader the run left behind.
    kept = {kind.reader_name() for kind in (ProbeProcess, EnvironmentProcess)}
    left = [thread for thread in threading.enumerate() if thread not in before and thread.name not in kept]
    for thread in left:
        thread.join(THREAD_GRACE_S)
    readers = [thread.name for thread in threading.enumerate() if thread.name in kept and thread.is_alive()]
    threads_left = [thread.name for thread in left if thread.is_alive()]
    threads_left += sorted(name for name in kept if readers.count(name) > 1)
    return Run(*case, result.returncode, result.stdout, result.stderr, ended, False, threads_left)


def run_as_process(case: Case, folder: Path, port: int) -> Run:
    args = arguments(case, folder, port)
    errors = folder / "stderr.txt"
    with errors.open("w") as stderr:  # a file: a full pipe could never block the command
        process = subprocess.Popen(
            [sys.executable, "-m", "infradiag", *args],
            cwd=ROOT,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "160", **NO_REAL_GOOGLE},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        killer = threading.Timer(OUTER_TIMEOUT_S, process.kill)
        killer.start()
        try:
            assert process.stdout is not None
            # The report is written (and flushed) at once, after the twin has stopped: its first byte marks
            # the end of the command's work. Then the process must exit by itself (or be killed).
            first = process.stdout.read(1)
            ended = time.time()
            output = first + process.stdout.read()
            process.wait()
        finally:
            killer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
    killed = process.returncode == -signal.SIGKILL
    return Run(*case, process.returncode, output, errors.read_text(), ended, killed, [])


class Matrix:
    """The runs of this worker, each case run once however many tests look at it."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.runs: dict[Case, Run] = {}

    def run(self, case: Case) -> Run:
        if case not in self.runs:
            self.runs[case] = run_in_process(case, self.folder / case_id(case), self.port)
        return self.runs[case]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory, dead_port: int) -> Matrix:
    return Matrix(tmp_path_factory.mktemp("matrix"), dead_port)


def check(result: Run) -> dict[str, Any]:
    """What holds in every case: a valid JSON report, no traceback, the documented exit code, never 0
    while a probe fails, the deadline kept, and nothing of the run left running."""
    label = result.label()
    assert not result.killed, f"{label}: still running after {OUTER_TIMEOUT_S:g} s"
    assert "Traceback" not in result.stderr, f"{label}:\n{result.stderr}"
    assert result.threads_left == [], f"{label}: threads still running after the run"
    report: dict[str, Any] = json.loads(result.stdout)
    assert_valid_report(report)
    assert result.code == expected_code(result.api, result.endpoint), f"{label}: {result.stderr}"
    if any(not probe["ok"] for probe in report["probes"]):
        assert result.code != 0, label
    if report["unknowns"]:
        assert report["verdict"] in ("unknown", "degraded", "down"), label
    deadline = deadline_of(result.api)
    # The triage's own clock: probes, API reads, diagnosis and report.
    assert report["durationMs"] <= (deadline + MARGIN_S) * 1000, f"{label}: {report['durationMs']} ms"
    # And the whole command up to its end: the triage plus stopping the twin. startedAt has whole seconds,
    # so it may be up to 1 s early.
    started = datetime.fromisoformat(report["startedAt"].replace("Z", "+00:00")).timestamp()
    assert result.ended - started <= deadline + MARGIN_S + 1, f"{label}: {result.ended - started:.1f} s"
    return report


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_api_fault_with_every_endpoint_fault_keeps_the_deadline_and_the_exit_codes(
    matrix: Matrix, case: Case
) -> None:
    check(matrix.run(case))


@pytest.mark.process
def test_a_process_with_a_delayed_grpc_api_and_a_hung_endpoint_ends_by_its_deadline(
    tmp_path: Path, dead_port: int
) -> None:
    check(run_as_process(PROCESS_CASE, tmp_path, dead_port))


@pytest.mark.parametrize("case", SLOW_CASES, ids=case_id)
def test_an_api_slower_than_the_deadline_is_an_unknown_that_says_it_timed_out(
    matrix: Matrix, case: Case
) -> None:
    result = matrix.run(case)
    report = json.loads(result.stdout)
    service = SLOW_APIS[result.api]
    [unknown] = [u for u in report["unknowns"] if u["source"] == service]
    assert unknown["reason"] == "DEADLINE_EXCEEDED"
    assert f"{service}.googleapis.com timed out" in unknown["fix"]
    assert "--deadline" in unknown["fix"]
    # Whatever did arrive is there: both services were listed and probed.
    assert {p["service"] for p in report["probes"]} == {FAULTY, HEALTHY_SERVICE}


@pytest.mark.parametrize("case", DEAD_PORT_CASES, ids=case_id)
def test_a_dead_api_endpoint_is_an_unknown_per_api_at_once(
    matrix: Matrix, case: Case, dead_port: int
) -> None:
    report = json.loads(matrix.run(case).stdout)
    assert report["verdict"] == "unknown"
    by_source = {u["source"]: u for u in report["unknowns"]}
    assert {"run", "vpcaccess", "compute", "sql", "monitoring"} <= set(by_source)
    for source, unknown in by_source.items():
        where = f"127.0.0.1:{dead_port}" if source == "monitoring" else f"http://127.0.0.1:{dead_port}"
        assert unknown["fix"].startswith(f"cannot connect to {where}: connection refused;"), unknown
        key = "monitoring_endpoint" if source == "monitoring" else "api_endpoint"
        assert f"`{key}`" in unknown["fix"]
    # A refused connection is not waited out: the reads would end at the deadline, less its reserve for the
    # report (5.1 s of a 6 s deadline); refusals come back in milliseconds.
    assert report["durationMs"] < DEAD_PORT_DEADLINE_S * 1000 / 2


def test_a_refused_permission_names_the_role_and_never_passes(matrix: Matrix) -> None:
    result = matrix.run(("triage", "denied-monitoring", "healthy"))
    report = json.loads(result.stdout)
    assert all(p["ok"] for p in report["probes"])
    [unknown] = report["unknowns"]
    assert (unknown["source"], unknown["reason"]) == ("monitoring", "PERMISSION_DENIED")
    assert "roles/monitoring.viewer" in unknown["fix"]
    # Every probe passes, but connector and Cloud Run load went unchecked: it cannot tell that all is well.
    assert (report["verdict"], result.code) == ("degraded", 3)
