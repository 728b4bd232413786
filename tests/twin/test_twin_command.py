"""`infradiag twin serve SCENARIO --format json`, as a script uses it: first line JSON, official clients
against it, clean stop on SIGINT (docs/scenario-format.md, "Checking and serving a scenario")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, run_v2

from tests.conftest import ROOT, SCENARIOS, run_cli


@pytest.mark.process
def test_serve_prints_its_addresses_then_answers_until_sigint() -> None:
    scenario = SCENARIOS / "staging-healthy.yaml"
    process = subprocess.Popen(
        [sys.executable, "-m", "infradiag", "twin", "serve", str(scenario), "--format", "json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert process.stdout is not None
        addresses = json.loads(process.stdout.readline())
        assert set(addresses) == {"project", "region", "rest", "grpc", "services"}
        assert set(addresses["rest"]) == {"run", "vpcaccess", "compute", "sql"}
        options = {
            "transport": "rest",
            "credentials": AnonymousCredentials(),  # type: ignore[no-untyped-call]
            "client_options": ClientOptions(api_endpoint=addresses["rest"]["run"]),
        }
        services = run_v2.ServicesClient(**options).list_services(
            parent=f"projects/{addresses['project']}/locations/{addresses['region']}"
        )
        served = {s.name.rsplit("/", 1)[-1]: s.uri for s in services}
        assert served == addresses["services"]
        options["client_options"] = ClientOptions(api_endpoint=addresses["rest"]["compute"])
        assert list(compute_v1.NetworksClient(**options).list(project=addresses["project"])) == []
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_check_validates_without_serving(tmp_path: Path) -> None:
    valid = run_cli("twin", "check", str(SCENARIOS / "staging-healthy.yaml"))
    assert valid.returncode == 0, valid.stderr
    assert "valid (9 services, 1 connectors, 20 time series)" in valid.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (SCENARIOS / "staging-healthy.yaml").read_text().replace("state: READY", "state: READDY", 1)
    )
    invalid = run_cli("twin", "check", str(broken))
    assert invalid.returncode == 2
    assert f"{broken}:" in invalid.stderr and "READDY" in invalid.stderr and "Traceback" not in invalid.stderr
