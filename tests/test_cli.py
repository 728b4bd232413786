"""The CLI as a user types it: the incident, JSON purity, exit codes, lazy imports, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SCENARIOS, run_cli

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
CONNECTOR = "projects/acme-staging/locations/us-central1/connectors/staging-conn"


@pytest.mark.process
def test_help_imports_no_google_cloud_module() -> None:
    code = (
        "import sys\n"
        "from infradiag.cli import main\n"
        "sys.argv = ['infradiag', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('google.cloud') or m == 'grpc'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "triage" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_triage_staging_names_the_saturated_connector_and_exits_1() -> None:
    result = run_cli("triage", "staging")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "vpc_connector.saturated" in out
    assert "P0" in out
    assert "VPC connector staging-conn is out of capacity" in out
    assert "why 3" in out  # the whole chain: probes -> connector in common -> capacity
    assert (
        "gcloud compute networks vpc-access connectors update staging-conn --region us-central1 "
        "--project acme-staging --min-instances 2 --max-instances 6"
    ) in out
    assert "# risks: can only go up in place" in out


def test_json_output_is_only_the_v1_report() -> None:
    result = run_cli("triage", "--scenario", str(INCIDENT), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)  # nothing but the JSON object on stdout
    assert report["schema"] == "infradiag.triage/v1"
    assert report["verdict"] == "down"
    assert report["project"] == "acme-staging"
    top = report["findings"][0]
    assert (top["cause"], top["priority"], top["resources"]) == ("vpc_connector.saturated", "P0", [CONNECTOR])
    assert len(top["affectedServices"]) == 9
    assert top["why"][0]["question"].startswith("Why do 9 services")
    # The nightly export job routes through the saturated connector too (Cloud Run Jobs, jobs.list).
    assert {
        "source": "run",
        "detail": "job nightly-export routes through staging-conn too "
        "(template.template.vpcAccess.connector); latest execution nightly-export-x7k2p: EXECUTION_FAILED",
    } in top["why"][-1]["evidence"]
    assert report["plan"][0] == {
        **report["plan"][0],
        "rank": 1,
        "priority": "P0",
        "findings": [top["id"]],
    }
    assert all(p["outcome"] == "http_5xx" and p["status"] == 503 for p in report["probes"])


def test_healthy_staging_exits_0() -> None:
    result = run_cli("triage", "staging-healthy", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "healthy"
    assert not [f for f in report["findings"] if f["priority"] in ("P0", "P1")]


def test_fail_on_p0_still_fails_on_the_incident() -> None:
    assert run_cli("triage", "staging", "--fail-on", "P0", "--format", "json").returncode == 1


def test_unknown_environment_is_a_one_line_usage_error() -> None:
    result = run_cli("triage", "nope")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "infradiag.toml" in result.stderr and "nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_flag_values_exit_2() -> None:
    assert run_cli("triage", "staging", "--format", "xml").returncode == 2
    result = run_cli("triage", "staging", "--deadline", "soon")
    assert result.returncode == 2
    assert "--deadline" in result.stderr and "Traceback" not in result.stderr


def test_broken_scenario_names_file_and_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "apiVersion: infradiag/twin-v1\nname: broken\nproject: acme-staging\nregion: us-central1\n"
        "now: 2026-09-15T23:06:52Z\nrun:\n  servicez: []\n"
    )
    result = run_cli("triage", "--scenario", str(broken))
    assert result.returncode == 2
    assert f"{broken}:7" in result.stderr
    assert "servicez" in result.stderr and "Traceback" not in result.stderr
