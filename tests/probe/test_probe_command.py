"""`infradiag probe` and the probe parts of `infradiag triage`, as a user runs them: the probe table, exit
codes, the deadline, and no token in any output format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SCENARIOS, run_cli
from tests.probe.servers import fleet_scenario

TOKEN = "opaque-probe-token-5d1e2b"


def write_scenario(tmp_path: Path, scenario: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


def test_probe_prints_the_probe_table_and_exits_1_when_a_probe_fails() -> None:
    result = run_cli("probe", "staging")
    assert result.returncode == 1, result.stderr
    assert "Probes of staging (acme-staging, us-central1)" in result.stdout
    assert result.stdout.count("http_5xx") == 9
    assert "Google" in result.stdout  # the GFE page is recognised (the detail column wraps)
    assert "first byte" in result.stdout
    assert "Remediation plan" not in result.stdout  # just the probes


def test_probe_json_is_one_object_with_the_triage_probe_keys_and_more() -> None:
    result = run_cli("probe", "--scenario", str(SCENARIOS / "staging-healthy.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "infradiag.probe/v1"
    assert (report["project"], report["region"], report["unknowns"]) == ("acme-staging", "us-central1", [])
    assert len(report["probes"]) == 9
    probe = report["probes"][0]
    assert {"service", "url", "path", "ok", "status", "outcome", "latencyMs", "phases", "detail"} <= set(
        probe
    )
    assert (probe["ok"], probe["outcome"], probe["kind"], probe["failedChecks"]) == (True, "ok", "http", [])
    assert {"connect", "firstByte", "total"} <= set(probe["phases"])


def test_probe_exits_3_when_the_services_cannot_be_listed(tmp_path: Path) -> None:
    scenario = fleet_scenario({"a": {"*": {}}}, apiFaults=[{"api": "run", "error": "PERMISSION_DENIED"}])
    result = run_cli("probe", "--scenario", str(write_scenario(tmp_path, scenario)))
    assert result.returncode == 3, result.stderr
    assert "could not check: Cloud Run services could not be listed" in result.stdout
    assert "roles/run.viewer" in result.stdout


def test_a_hung_endpoint_never_holds_a_triage_past_its_deadline(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, fleet_scenario({"stuck": {"*": {"fault": "hang"}}, "fine": {"*": {}}}))
    # Below the 10 s probe timeout, so the deadline is what cuts the probe; the API reads (the clients are
    # imported before the clock starts) take a fraction of it even on a loaded machine.
    result = run_cli("triage", "--scenario", str(path), "--deadline", "3s", "--format", "json")
    assert result.returncode in (0, 1), result.stderr  # a verdict, not exit 3
    report = json.loads(result.stdout)
    assert report["durationMs"] < 3000
    probes = {p["service"]: p for p in report["probes"]}
    assert probes["stuck"]["outcome"] == "timeout"
    assert probes["stuck"]["detail"].startswith("cut at the overall deadline after ")
    assert probes["fine"]["outcome"] == "ok"
    assert report["verdict"] == "degraded"


def test_probe_command_cuts_a_hung_endpoint_at_its_deadline(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, fleet_scenario({"stuck": {"*": {"fault": "hang"}}}))
    result = run_cli("probe", "--scenario", str(path), "--deadline", "2s", "--format", "json")
    assert result.returncode == 1, result.stderr
    [probe] = json.loads(result.stdout)["probes"]
    assert probe["outcome"] == "timeout" and probe["latencyMs"] < 2000


def test_no_token_reaches_any_output_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Services that echo the bearer token back (in bodies, headers, redirects, error pages) are the worst
    case: every output of triage and probe is searched for it."""
    echo = {"json": {"status": "ok", "debug": f"Authorization: Bearer {TOKEN}", "seen": TOKEN}}
    scenario = fleet_scenario(
        {
            "echo": {"/health": {**echo, "headers": {"X-Echo": TOKEN}}},
            "broken": {"/health": {"status": 503, "json": {"status": "error", "database": f"down: {TOKEN}"}}},
            "page": {"/health": {"status": 500, "body": f"<html><p>token {TOKEN}</p></html>"}},
            "login": {
                "/health": {"status": 302, "headers": {"Location": f"https://login.example.com/?t={TOKEN}"}}
            },
        }
    )
    config = tmp_path / "infradiag.toml"
    config.write_text(
        f'[environments.leaky]\ntwin = "{write_scenario(tmp_path, scenario)}"\nauth = "env:PROBE_TOKEN"\n'
    )
    runs = {
        "triage": ("triage", "leaky"),
        "triage json": ("triage", "leaky", "--format", "json"),
        "triage markdown": ("triage", "leaky", "--format", "markdown"),
        "triage confirm": ("triage", "leaky", "--confirm"),
        "probe": ("probe", "leaky"),
        "probe json": ("probe", "leaky", "--format", "json", "--confirm"),
    }
    monkeypatch.setenv("PROBE_TOKEN", TOKEN)  # the CLI runs inherit it
    for name, args in runs.items():
        result = run_cli(*args, "--config", str(config))
        assert result.returncode in (0, 1), f"{name}: {result.stderr}"
        for stream in (result.stdout, result.stderr):
            assert TOKEN not in stream, name
            assert TOKEN[-10:] not in stream, name
    probes = json.loads(run_cli("probe", "leaky", "--format", "json", "--config", str(config)).stdout)
    echoed = next(p for p in probes["probes"] if p["service"] == "echo")
    assert echoed["bodyJson"] == {"status": "ok", "debug": "Authorization: [redacted]", "seen": "[redacted]"}


def probe_of(report: dict[str, Any], service: str) -> dict[str, Any]:
    probe: dict[str, Any] = next(p for p in report["probes"] if p["service"] == service)
    return probe


def test_a_twin_the_cli_starts_has_its_expiring_certificate_verified_as_a_public_one() -> None:
    path = SCENARIOS / "cause-tls-certificate-expiring.yaml"
    result = run_cli("probe", "--scenario", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    probe = probe_of(json.loads(result.stdout), "frontend")
    assert (probe["ok"], probe["outcome"], probe["tlsVerified"]) == (True, "ok", True)
    # expiresInDays: 5 from the moment the twin started, a moment before the probe.
    assert 4.9 <= probe["tlsExpiresInDays"] <= 5.0
    assert "tlsError" not in probe


def test_trusting_the_twin_ca_keeps_expired_expired_and_untrusted_untrusted(tmp_path: Path) -> None:
    scenario = fleet_scenario(
        {
            "old": {"*": {"fault": "tls-expired"}},
            "stranger": {"*": {"fault": "tls-untrusted"}},
            "soon": {"*": {"fault": "tls-expiring", "expiresInDays": 2}},
        }
    )
    result = run_cli("probe", "--scenario", str(write_scenario(tmp_path, scenario)), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    old, stranger, soon = (probe_of(report, name) for name in ("old", "stranger", "soon"))
    assert (old["outcome"], old["tlsVerified"], old["tlsError"]) == (
        "tls_error",
        False,
        "certificate has expired",
    )
    assert (stranger["outcome"], stranger["tlsVerified"]) == ("tls_error", False)
    assert stranger["tlsError"] == "unable to get local issuer certificate"
    assert (soon["outcome"], soon["tlsVerified"]) == ("ok", True)
    assert 1.9 <= soon["tlsExpiresInDays"] <= 2.0


def test_a_triage_of_the_expiring_scenario_finds_the_certificate_expiring() -> None:
    path = SCENARIOS / "cause-tls-certificate-expiring.yaml"
    result = run_cli("triage", "--scenario", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    causes = [(f["cause"], f["priority"]) for f in json.loads(result.stdout)["findings"]]
    assert causes == [("tls.certificate_expiring", "P2")]


def test_an_environment_whose_twin_the_cli_starts_trusts_its_ca_under_its_own_probe_settings(
    tmp_path: Path,
) -> None:
    config = tmp_path / "infradiag.toml"
    scenario = SCENARIOS / "cause-tls-certificate-expiring.yaml"
    # probe_confirm is one of the environment's probe settings, which replace the twin target's defaults.
    config.write_text(f'[environments.soon]\ntwin = "{scenario}"\nprobe_confirm = true\n')
    result = run_cli("triage", "soon", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [f["cause"] for f in report["findings"]] == ["tls.certificate_expiring"]
    assert probe_of(report, "frontend")["outcome"] == "ok"
