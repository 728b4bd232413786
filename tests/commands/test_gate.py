"""`infradiag gate` as CI runs it: exit codes, and `--wait` against a running twin that recovers, or not.

The twin runs in this process (an environment in a temporary infradiag.toml names its endpoints, as for one
started by `infradiag twin serve`); `Twin.swap` makes it recover while the gate polls it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infradiag.twin.scenario import load_scenario
from infradiag.twin.server import Twin
from tests.conftest import SCENARIOS, run_cli
from tests.report.schema import assert_valid_report

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
HEALTHY = SCENARIOS / "staging-healthy.yaml"


@pytest.fixture
def incident_twin() -> Iterator[Twin]:
    with Twin(load_scenario(INCIDENT)) as twin:
        yield twin


def config_for(twin: Twin, folder: Path) -> Path:
    """An infradiag.toml whose `staging` is the running twin."""
    assert twin.addresses is not None
    config = folder / "infradiag.toml"
    config.write_text(
        "[environments.staging]\n"
        f'project = "{twin.addresses.project}"\n'
        f'region = "{twin.addresses.region}"\n'
        f'api_endpoint = "{twin.addresses.rest}"\n'
        f'monitoring_endpoint = "{twin.addresses.grpc}"\n'
        f"now = {twin.scenario.now:%Y-%m-%dT%H:%M:%SZ}\n"
    )
    return config


def recover_after_listings(twin: Twin, listings: int) -> threading.Thread:
    """Swap in the healthy scenario once the gate has started `listings` triages (each lists services
    first), so at least one full triage saw the incident."""

    def run() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if sum(1 for call in twin.log.calls() if call.method == "ListServices") >= listings:
                twin.swap(load_scenario(HEALTHY))
                return
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def attempts(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("gate staging: attempt ")]


def test_gate_once_on_the_incident_exits_1_and_on_a_healthy_twin_0() -> None:
    failing = run_cli("gate", "--scenario", str(INCIDENT), "--format", "json")
    assert failing.returncode == 1, failing.stderr
    assert_valid_report(json.loads(failing.stdout))
    assert "not fit to test" in failing.stderr and "VPC connector staging-conn" in failing.stderr
    passing = run_cli("gate", "--scenario", str(HEALTHY), "--format", "json")
    assert passing.returncode == 0, passing.stderr
    assert json.loads(passing.stdout)["verdict"] == "healthy"


def test_gate_fail_on_p0_still_fails_on_a_p0_and_quiet_keeps_only_the_verdict_line() -> None:
    result = run_cli("gate", "--scenario", str(INCIDENT), "--fail-on", "P0", "--quiet", "--format", "json")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("infradiag: gate staging-vpc-connector-saturation: not fit to test")


def test_gate_waits_until_the_twin_recovers(incident_twin: Twin, tmp_path: Path) -> None:
    config = config_for(incident_twin, tmp_path)
    swapper = recover_after_listings(incident_twin, listings=2)
    began = time.monotonic()
    result = run_cli(
        "gate", "staging", "--config", str(config), "--wait", "4m", "--interval", "1s", "--format", "json",
        timeout=300,
    )  # fmt: skip
    elapsed = time.monotonic() - began
    swapper.join(timeout=1)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert_valid_report(report)
    assert report["verdict"] == "healthy"
    lines = attempts(result.stderr)
    assert len(lines) >= 2
    assert "down, 1 finding(s) at or above P1" in lines[0]  # the incident was seen first
    assert "healthy, no finding at or above P1" in lines[-1]
    assert elapsed < 240  # passed as soon as healthy, not at the deadline


def test_gate_times_out_within_one_interval_when_the_twin_never_recovers(
    incident_twin: Twin, tmp_path: Path
) -> None:
    config = config_for(incident_twin, tmp_path)
    junit = tmp_path / "gate.xml"
    wait, interval = 12.0, 4.0
    # In this process: in a fresh one the clock would also count an interpreter start-up the gate never
    # sees (seconds on a loaded machine). Around the gate's own wait there is only parsing and the output.
    began = time.monotonic()
    result = run_cli(
        "gate", "staging", "--config", str(config), "--wait", f"{wait:g}s", "--interval", f"{interval:g}s",
        "--junit", str(junit), "--format", "json",
    )  # fmt: skip
    decided = time.monotonic() - began
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines()[-1]  # the gate's decision is the last thing it does
    assert "timed out waiting for staging to be healthy" in last, result.stderr
    # The deadline holds within one interval: no triage starts after it, none runs past it.
    assert wait - interval <= decided <= wait + interval, result.stderr
    assert len(attempts(result.stderr)) >= 2
    assert "vpc_connector.saturated" in {f["cause"] for f in json.loads(result.stdout)["findings"]}
    assert "vpc_connector.saturated" in junit.read_text()


def test_an_attempt_the_end_of_the_wait_cuts_short_leaves_the_verdict_before_it(tmp_path: Path) -> None:
    """An attempt started with less time left than a triage takes reads nothing: that says nothing about the
    environment, so the P0 before it stands (exit 1), not "could not check" every API (exit 3)."""
    from infradiag.commands.gate import standing_report
    from infradiag.report.model import TriageReport

    def report(*args: str) -> TriageReport:
        return TriageReport.model_validate_json(run_cli("triage", *args, "--format", "json").stdout)

    # What an attempt with no time left reports: nothing read, verdict unknown (here every API refuses).
    refused = [{"api": api, "error": "DEADLINE_EXCEEDED"} for api in ("run", "vpcaccess", "compute", "sql")]
    unread = tmp_path / "unread.yaml"
    unread.write_text(HEALTHY.read_text() + yaml.safe_dump({"apiFaults": refused}))
    down = report("--scenario", str(INCIDENT))
    blind = report("--scenario", str(unread))
    healthy = report("--scenario", str(HEALTHY))
    assert (down.verdict, blind.verdict, healthy.verdict) == ("down", "unknown", "healthy")
    assert standing_report(down, blind, cut_short=True) is down
    assert standing_report(down, blind, cut_short=False) is blind  # cut by --deadline: the gate cannot tell
    assert standing_report(None, blind, cut_short=True) is blind
    assert standing_report(down, healthy, cut_short=True) is healthy


def test_gate_that_cannot_judge_exits_3(tmp_path: Path) -> None:
    # The healthy scenario, with every API refusing infradiag.
    denied = [
        {"api": api, "error": "PERMISSION_DENIED"}
        for api in ("run", "vpcaccess", "compute", "sql", "monitoring", "iam")
    ]
    path = tmp_path / "blind.yaml"
    path.write_text(HEALTHY.read_text() + yaml.safe_dump({"apiFaults": denied}))
    result = run_cli("gate", "--scenario", str(path), "--format", "json")
    assert result.returncode == 3, result.stderr
    assert json.loads(result.stdout)["verdict"] == "unknown"


def test_gate_whose_deadline_passes_before_a_verdict_exits_3() -> None:
    result = run_cli("gate", "--scenario", str(INCIDENT), "--deadline", "1ms", "--format", "json")
    assert result.returncode == 3
    assert result.stdout == ""  # no report: nothing on stdout
    assert "no verdict" in result.stderr


@pytest.mark.parametrize(
    ("flag", "value"), [("--wait", "soon"), ("--interval", "0s"), ("--deadline", "0"), ("--fail-on", "P9")]
)
def test_bad_gate_flags_exit_2_in_one_line(flag: str, value: str) -> None:
    result = run_cli("gate", "--scenario", str(HEALTHY), flag, value)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
