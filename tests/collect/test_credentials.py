"""Credentials as gcloud users expect them, driven through the real google-auth flows against a twin that
requires credentials (never Google): none at all, a key file, impersonation, private services' ID tokens,
refusals, and no token in any output or log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infradiag.twin.scenario import load_scenario
from infradiag.twin.server import Twin
from tests.authtwin import PRIVATE, PROJECT, PUBLIC, READER, no_real_google, write_config, write_scenario
from tests.conftest import run_cli

ADC_FIX = "gcloud auth application-default login"


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    no_real_google(monkeypatch, tmp_path / "home")
    return tmp_path


@pytest.fixture
def twin(clean: Path) -> Iterator[Twin]:
    with Twin(load_scenario(write_scenario(clean))) as running:
        yield running


def _config(twin: Twin, folder: Path, key: Path | None, extra: str = "") -> Path:
    assert twin.addresses is not None
    return write_config(folder, twin.addresses.rest, twin.addresses.grpc, key=key, extra=extra)


def _tokens_issued_to(twin: Twin) -> list[str]:
    """Every token the twin handed out so far, read back from its answers' source: the twin's memory."""
    assert twin.auth is not None
    return list(twin.auth._tokens)


def _assert_no_token(twin: Twin, *texts: str) -> None:
    logged = json.dumps([call.__dict__ for call in twin.log.calls()])
    for token in _tokens_issued_to(twin):
        for text in (*texts, logged):
            assert token not in text
            assert token.removeprefix("ya29.") not in text


@pytest.mark.parametrize("command", ["triage", "gate"])
def test_without_any_credentials_a_real_project_is_one_unknown_naming_the_fix(
    clean: Path, command: str
) -> None:
    config = clean / "infradiag.toml"
    config.write_text('[environments.real]\nproject = "acme-staging"\nregion = "us-central1"\n')
    result = run_cli(command, "real", "--config", str(config), "--format", "json")
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "unknown"
    [unknown] = report["unknowns"]
    assert (unknown["source"], unknown["reason"]) == ("auth", "UNAUTHENTICATED")
    assert ADC_FIX in unknown["fix"]
    # Found missing before any wait: not a timeout of a token or metadata request.
    assert "default credentials were not found" in unknown["detail"].lower()


def test_a_key_file_whose_token_uri_is_the_twin_triages_it_end_to_end(twin: Twin, clean: Path) -> None:
    key = twin.write_key_file(clean / "key.json")
    result = run_cli("triage", "twin", "--config", str(_config(twin, clean, key)), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "healthy"
    assert report["unknowns"] == []
    assert report["identity"] == f"infradiag-twin@{PROJECT}.iam.gserviceaccount.com"
    assert {p["service"]: p["status"] for p in report["probes"]} == {PUBLIC: 200, PRIVATE: 200}
    calls = twin.log.calls()
    assert all(c.code == "OK" for c in calls), [c for c in calls if c.code != "OK"]
    assert {c.api for c in calls} >= {"run", "compute", "sql", "monitoring", "oauth2"}
    # One access token for every REST client and the gRPC channel, and one ID token for the private service.
    assert [c.method for c in calls if c.api == "oauth2"] == ["token", "token"]
    assert len(_tokens_issued_to(twin)) == 1
    _assert_no_token(twin, result.stdout, result.stderr)


def test_impersonation_reads_the_project_as_the_impersonated_account(twin: Twin, clean: Path) -> None:
    key = twin.write_key_file(clean / "key.json")
    config = _config(twin, clean, key)
    result = run_cli(
        "triage", "twin", "--config", str(config), "--format", "json", "--impersonate-service-account", READER
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["identity"].startswith(f"{READER} (impersonated by infradiag-twin@")
    assert {p["service"]: p["status"] for p in report["probes"]} == {PUBLIC: 200, PRIVATE: 200}
    iam = [(c.method, c.code) for c in twin.log.calls() if c.api == "iamcredentials"]
    assert iam == [("generateAccessToken", "OK"), ("generateIdToken", "OK")]
    _assert_no_token(twin, result.stdout, result.stderr)


def test_impersonation_refused_is_one_unknown_naming_the_role(twin: Twin, clean: Path) -> None:
    key = twin.write_key_file(clean / "key.json")
    other = f"other@{PROJECT}.iam.gserviceaccount.com"
    config = _config(twin, clean, key, extra=f'impersonate_service_account = "{other}"\n')
    result = run_cli("triage", "twin", "--config", str(config), "--format", "json")
    assert result.returncode == 3, result.stderr
    [unknown] = json.loads(result.stdout)["unknowns"]
    assert (unknown["source"], unknown["reason"]) == ("auth", "PERMISSION_DENIED")
    assert "roles/iam.serviceAccountTokenCreator" in unknown["fix"] and other in unknown["fix"]
    assert not [c for c in twin.log.calls() if c.api in ("run", "compute", "sql", "monitoring")]


def test_a_key_the_twin_refuses_is_one_unknown(twin: Twin, clean: Path) -> None:
    key = twin.write_key_file(clean / "key.json")
    info = json.loads(key.read_text())
    with Twin(load_scenario(write_scenario(clean))) as other:
        info["private_key"] = json.loads(other.write_key_file(clean / "other.json").read_text())[
            "private_key"
        ]
    key.write_text(json.dumps(info))
    result = run_cli("triage", "twin", "--config", str(_config(twin, clean, key)), "--format", "json")
    assert result.returncode == 3
    [unknown] = json.loads(result.stdout)["unknowns"]
    assert (unknown["source"], unknown["reason"]) == ("auth", "UNAUTHENTICATED")
    assert "Traceback" not in result.stderr


def test_an_unreachable_token_endpoint_is_one_unknown(twin: Twin, clean: Path) -> None:
    key = twin.write_key_file(clean / "key.json")
    info = json.loads(key.read_text())
    info["token_uri"] = "http://127.0.0.1:9/token"  # nothing listens on the discard port
    key.write_text(json.dumps(info))
    result = run_cli("probe", "twin", "--config", str(_config(twin, clean, key)), "--format", "json")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [unknown] = json.loads(result.stdout)["unknowns"]
    assert (unknown["source"], unknown["reason"]) == ("auth", "UNAVAILABLE")


def test_a_scenario_that_requires_credentials_is_triaged_with_the_key_its_twin_writes(clean: Path) -> None:
    result = run_cli("triage", "--scenario", str(write_scenario(clean)), "--format", "json")
    report = json.loads(result.stdout)
    assert report["identity"] == f"infradiag-twin@{PROJECT}.iam.gserviceaccount.com"
    assert report["unknowns"] == []
    # Without `auth = "id_token"` the private service's probe goes without a token, and Cloud Run refuses it.
    assert {p["service"]: p["status"] for p in report["probes"]} == {PUBLIC: 200, PRIVATE: 403}


def test_a_running_twin_that_requires_credentials_read_anonymously_names_the_key_to_use(
    twin: Twin, clean: Path
) -> None:
    result = run_cli("triage", "twin", "--config", str(_config(twin, clean, None)), "--format", "json")
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["identity"] == "anonymous (twin)"
    assert report["unknowns"]
    for unknown in report["unknowns"]:
        assert unknown["reason"] == "UNAUTHENTICATED"
        assert "--key-file" in unknown["fix"]
