"""The fault matrix: broken APIs and broken endpoints under a short deadline, through the real CLI.

Each case writes a scenario derived from staging-healthy (two services: `backend` gets the endpoint fault,
`auth` stays healthy) or a config pointing at a dead port, runs `infradiag triage` (every API fault with every
endpoint fault) or `infradiag gate` (a diagonal) as a subprocess, and checks what issue 11 asks: a report on
stdout that parses and is valid, no traceback, the documented exit code, never 0 while a probe fails, and
the run ending within the deadline plus a second.

The cases run in parallel: most of a case is the interpreter importing Google's libraries (CPU) or waiting
out the deadline (idle), so a few at once keep the matrix to about a minute on two cores.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, SCENARIOS
from tests.report.schema import assert_valid_report

DEADLINE_S = 3.0
# A delay no triage may wait out: were a handler thread of the twin to outlive the run, the process would
# hang for ten minutes and hit OUTER_TIMEOUT_S.
FAR_BEYOND_MS = 600_000
# Only a catch-all for a process that never ends: start-up (imports of Google's libraries) takes seconds of
# CPU, and several cases share two loaded cores. The deadline itself is checked on the command's own clock.
OUTER_TIMEOUT_S = 180.0
PARALLEL = 3
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


def expected_code(api: str, endpoint: str) -> int:
    """The README's exit codes: 3 when nothing could be judged (no service listed) or evidence is missing,
    1 when a probe fails (before missing evidence: a failing service is known not fit), else 0."""
    if api in NOTHING_PROBED:
        return 3
    if endpoint != "healthy":
        return 1
    return 0 if api == "none" else 3


@dataclass
class Run:
    """One finished CLI run, and when (time.time()) its report was seen."""

    command: str
    api: str
    endpoint: str
    code: int
    stdout: str
    stderr: str
    report_seen: float
    killed: bool  # still running after OUTER_TIMEOUT_S

    def label(self) -> str:
        return f"{self.command} {self.api} x {self.endpoint}"


def environment() -> dict[str, str]:
    # google-auth must never reach for a real metadata server or credentials from a test.
    return {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "160",
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


def run(command: str, api: str, endpoint: str, folder: Path, port: int) -> Run:
    folder.mkdir(parents=True, exist_ok=True)
    if api == DEAD_PORT:
        target = ["dead", "--config", str(dead_config(folder, port))]
    else:
        target = ["--scenario", str(scenario(folder, api, endpoint))]
    args = [command, *target, "--deadline", f"{DEADLINE_S:g}s", "--format", "json"]
    errors = folder / "stderr.txt"
    with errors.open("w") as stderr:  # a file: a full pipe could never block the command
        process = subprocess.Popen(
            [sys.executable, "-m", "infradiag", *args],
            cwd=ROOT,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        killer = threading.Timer(OUTER_TIMEOUT_S, process.kill)
        killer.start()
        try:
            assert process.stdout is not None
            # The report is written (and flushed) at once, after the twin has stopped: its first byte marks
            # the end of the command's work.
            first = process.stdout.read(1)
            report_seen = time.time()
            rest = process.stdout.read()
            process.wait()
        finally:
            killer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
    killed = process.returncode == -signal.SIGKILL
    output = first + rest
    return Run(command, api, endpoint, process.returncode, output, errors.read_text(), report_seen, killed)


def run_all(cases: list[tuple[str, str, str]], folder: Path, port: int) -> list[Run]:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = [
            pool.submit(run, command, api, endpoint, folder / f"{command}-{api}-{endpoint}", port)
            for command, api, endpoint in cases
        ]
        return [future.result(timeout=OUTER_TIMEOUT_S * len(cases)) for future in futures]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, dead_port: int) -> list[Run]:
    cases = [("triage", api, endpoint) for api, endpoint in triage_cases()]
    cases += [("gate", api, endpoint) for api, endpoint in GATE_CASES]
    return run_all(cases, tmp_path_factory.mktemp("matrix"), dead_port)


def check(result: Run) -> dict[str, Any]:
    """What holds in every case: a valid JSON report, no traceback, the documented exit code, never 0
    while a probe fails, and the deadline kept."""
    label = result.label()
    assert not result.killed, f"{label}: still running after {OUTER_TIMEOUT_S:g} s"
    assert "Traceback" not in result.stderr, f"{label}:\n{result.stderr}"
    report: dict[str, Any] = json.loads(result.stdout)
    assert_valid_report(report)
    assert result.code == expected_code(result.api, result.endpoint), f"{label}: {result.stderr}"
    if any(not probe["ok"] for probe in report["probes"]):
        assert result.code != 0, label
    if report["unknowns"]:
        assert report["verdict"] in ("unknown", "degraded", "down"), label
    # The triage's own clock: probes, API reads, diagnosis and report.
    assert report["durationMs"] <= (DEADLINE_S + 1) * 1000, f"{label}: {report['durationMs']} ms"
    # And the whole command after start-up, up to its report: the triage plus stopping the twin (which
    # once waited 30 s for a delayed call). startedAt has whole seconds, so it may be up to 1 s early.
    started = datetime.fromisoformat(report["startedAt"].replace("Z", "+00:00")).timestamp()
    assert result.report_seen - started <= DEADLINE_S + 1 + 1, (
        f"{label}: {result.report_seen - started:.1f} s"
    )
    return report


def test_every_api_fault_with_every_endpoint_fault_keeps_the_deadline_and_the_exit_codes(
    runs: list[Run],
) -> None:
    assert len(runs) == len(triage_cases()) + len(GATE_CASES)
    failures = []
    for result in runs:
        try:
            check(result)
        except (AssertionError, ValueError) as failure:  # ValueError: stdout is not JSON
            failures.append(f"{result.label()}: {failure}")
    assert failures == [], "\n".join(failures)


def reports(runs: list[Run], api: str) -> list[dict[str, Any]]:
    """The reports of every run with this API fault (each must be there)."""
    found = [r for r in runs if r.api == api]
    for result in found:
        assert not result.killed and result.stdout, f"{result.label()}: no report\n{result.stderr}"
    return [json.loads(r.stdout) for r in found]


def test_an_api_slower_than_the_deadline_is_an_unknown_that_says_it_timed_out(runs: list[Run]) -> None:
    for api, service in (("slow-vpcaccess", "vpcaccess"), ("slow-monitoring", "monitoring")):
        for report in reports(runs, api):
            [unknown] = [u for u in report["unknowns"] if u["source"] == service]
            assert unknown["reason"] == "DEADLINE_EXCEEDED"
            assert f"{service}.googleapis.com timed out" in unknown["fix"]
            assert "--deadline" in unknown["fix"]
            # Whatever did arrive is there: both services were listed and probed.
            assert {p["service"] for p in report["probes"]} == {FAULTY, HEALTHY_SERVICE}


def test_a_dead_api_endpoint_is_an_unknown_per_api_at_once(runs: list[Run], dead_port: int) -> None:
    for report in reports(runs, DEAD_PORT):
        assert report["verdict"] == "unknown"
        by_source = {u["source"]: u for u in report["unknowns"]}
        assert {"run", "vpcaccess", "compute", "sql", "monitoring"} <= set(by_source)
        for source, unknown in by_source.items():
            where = f"127.0.0.1:{dead_port}" if source == "monitoring" else f"http://127.0.0.1:{dead_port}"
            assert unknown["fix"].startswith(f"cannot connect to {where}: connection refused;"), unknown
            key = "monitoring_endpoint" if source == "monitoring" else "api_endpoint"
            assert f"`{key}`" in unknown["fix"]
        # A refused connection is not waited out: the reads would end at the deadline, less its reserve
        # for the report (2.55 s of a 3 s deadline); refusals come back in milliseconds.
        assert report["durationMs"] < 2000


def test_a_refused_permission_names_the_role_and_never_passes(runs: list[Run]) -> None:
    case = ("triage", "denied-monitoring", "healthy")
    [result] = [r for r in runs if (r.command, r.api, r.endpoint) == case]
    report = json.loads(result.stdout)
    assert all(p["ok"] for p in report["probes"])
    [unknown] = report["unknowns"]
    assert (unknown["source"], unknown["reason"]) == ("monitoring", "PERMISSION_DENIED")
    assert "roles/monitoring.viewer" in unknown["fix"]
    # Every probe passes, but connector and Cloud Run load went unchecked: it cannot tell that all is well.
    assert (report["verdict"], result.code) == ("degraded", 3)
