"""Credentials as gcloud users expect them, driven through the real google-auth flows against a twin that
requires credentials (never Google): none at all, a key file, impersonation, private services' ID tokens,
refusals, and no token in any output or log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infradiag.collect.clients import Clients
from infradiag.identity import Authenticator, shared
from infradiag.target import ApiEndpoints
from infradiag.twin.scenario import load_scenario
from infradiag.twin.server import Twin
from tests.authtwin import PRIVATE, PROJECT, PUBLIC, READER, no_real_google, write_config, write_scenario
from tests.cli_process import served_twin
from tests.conftest import ROOT, run_cli

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


def _assert_no_token(twin: Twin, *texts: str) -> None:
    """No access or ID token the twin issued (nor an ID token's signed part) in `texts` or its request log."""
    assert twin.auth is not None
    logged = json.dumps([call.__dict__ for call in twin.log.calls()])
    secrets = twin.auth.secrets()
    assert any(s.count(".") == 2 for s in secrets), "an ID token was issued, and is checked for too"
    for token in secrets:
        for text in (*texts, logged):
            assert token.removeprefix("ya29.") not in text
            assert token.split(".")[-1] not in text


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
    assert unknown["detail"] == "Your default credentials were not found."


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
    assert twin.auth is not None and twin.auth.issued() == 1
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
    assert f"--member=serviceAccount:infradiag-twin@{PROJECT}.iam.gserviceaccount.com" in unknown["fix"]
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


def test_twin_serve_writes_a_key_file_that_triages_its_twin_end_to_end(clean: Path) -> None:
    """The documented flow: `twin serve --key-file`, then an environment naming that key (README, "A twin
    that is already running")."""
    key = clean / "key.json"
    with served_twin(write_scenario(clean), "--key-file", str(key)) as twin:
        addresses = twin.addresses
        assert key.stat().st_mode & 0o077 == 0, "a private key is readable by its owner only"
        assert json.loads(key.read_text())["token_uri"] == addresses["rest"]["run"] + "/token"
        config = write_config(clean, addresses["rest"]["run"], addresses["grpc"]["monitoring"], key=key)
        result = run_cli("triage", "twin", "--config", str(config), "--format", "json")
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert report["identity"] == f"infradiag-twin@{PROJECT}.iam.gserviceaccount.com"
        assert {p["service"]: p["status"] for p in report["probes"]} == {PUBLIC: 200, PRIVATE: 200}
        assert twin.interrupt() == 0


def test_the_runs_one_token_is_refreshed_when_the_twin_says_it_expired(twin: Twin, clean: Path) -> None:
    """REST (the clients' AuthorizedSession) and gRPC (the channel's interceptor) both refresh the run's one
    credentials object on UNAUTHENTICATED and try again: one new token for both."""
    assert twin.addresses is not None and twin.auth is not None
    key = twin.write_key_file(clean / "key.json")
    auth = Authenticator(key, iam_endpoint=twin.addresses.rest).resolve()
    clients = Clients(ApiEndpoints(rest=twin.addresses.rest, grpc=twin.addresses.grpc), auth)
    try:

        def read() -> tuple[int, int]:
            # Monitoring first: it meets the expired token, and REST then already has the new one.
            policies = list(clients.alert_policies.list_alert_policies(name=f"projects/{PROJECT}"))
            services = list(
                clients.run_services.list_services(parent=f"projects/{PROJECT}/locations/us-central1")
            )
            return len(services), len(policies)

        first = read()
        assert twin.auth.issued() == 1
        twin.auth.expire_tokens()
        assert read() == first
        assert twin.auth.issued() == 2, "one refresh, shared by the REST client and the gRPC channel"
        codes = [(c.api, c.code) for c in twin.log.calls() if c.api in ("run", "monitoring")]
        assert codes == [
            *[("monitoring", "OK"), ("run", "OK")],
            *[("monitoring", "UNAUTHENTICATED"), ("monitoring", "OK"), ("run", "OK")],
        ]
    finally:
        clients.close()


_ON_CLOUD_RUN = """
import json, sys
from infradiag.identity import Authenticator, shared
auth = Authenticator()
resolved = auth.resolve()
token = auth.id_token(sys.argv[1], 10)
print(json.dumps({"identity": resolved.identity, "id_token": len(token.split("."))}))
"""


def test_on_cloud_run_adc_is_the_metadata_servers_service_account(twin: Twin, clean: Path) -> None:
    """ADC from the metadata server (the twin plays it, as GCE_METADATA_HOST): google-auth's own detection,
    token and ID-token requests. A fresh interpreter: google-auth reads GCE_METADATA_HOST when imported."""
    assert twin.addresses is not None and twin.auth is not None
    host = twin.addresses.rest.removeprefix("http://")
    env = {**os.environ, "GCE_METADATA_HOST": host, "GCE_METADATA_IP": host}
    env.pop("NO_GCE_CHECK", None)
    private = twin.addresses.services[PRIVATE]
    done = subprocess.run(
        [sys.executable, "-c", _ON_CLOUD_RUN, private],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer == {"identity": twin.auth.email, "id_token": 3}
    served = [(c.target, c.code) for c in twin.log.calls() if c.api == "metadata"]
    assert ("/computeMetadata/v1/instance/service-accounts/default/token", "OK") in served
    assert ("/computeMetadata/v1/instance/service-accounts/default/identity", "OK") in served
    for token in twin.auth.secrets():
        assert token.split(".")[-1] not in done.stdout + done.stderr


def test_the_quota_project_of_gcloud_adc_goes_with_every_call() -> None:
    """`gcloud auth application-default set-quota-project` writes quota_project_id; the run's one shared
    credentials object must still send it (x-goog-user-project), as the user's credentials would. (The twin
    cannot play gcloud's user flow: google-auth sends an authorized_user refresh to Google, whatever the
    file says.)"""
    from google.oauth2 import credentials as user_credentials

    user = user_credentials.Credentials(token="t", quota_project_id="acme-billing")  # type: ignore[no-untyped-call]
    headers: dict[str, str] = {}
    shared(user).apply(headers)
    assert headers["x-goog-user-project"] == "acme-billing"
    assert headers["authorization"] == "Bearer t"


def test_a_credentials_file_that_is_not_there_is_a_usage_error(clean: Path) -> None:
    config = clean / "infradiag.toml"
    config.write_text(
        '[environments.real]\nproject = "acme-staging"\nregion = "us-central1"\ncredentials = "nope.json"\n'
    )
    result = run_cli("triage", "real", "--config", str(config))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "nope.json is not a file" in line


def test_impersonating_something_that_is_no_email_is_a_usage_error(clean: Path) -> None:
    config = clean / "infradiag.toml"
    config.write_text('[environments.real]\nproject = "acme-staging"\nregion = "us-central1"\n')
    result = run_cli("gate", "real", "--config", str(config), "--impersonate-service-account", "reader")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "--impersonate-service-account" in line and "not a service account email" in line


def test_a_token_endpoint_that_never_answers_is_one_unknown_by_the_deadline(clean: Path) -> None:
    hanging = write_scenario(clean)
    data = yaml.safe_load(hanging.read_text())
    data["endpoints"][PUBLIC] = {"*": {"fault": "hang"}}
    hanging.write_text(yaml.safe_dump(data))
    with Twin(load_scenario(hanging)) as twin:
        assert twin.addresses is not None
        key = twin.write_key_file(clean / "key.json")
        info = json.loads(key.read_text())
        info["token_uri"] = twin.addresses.services[PUBLIC] + "/token"  # accepts, then never answers
        key.write_text(json.dumps(info))
        config = _config(twin, clean, key)
        result = run_cli("triage", "twin", "--config", str(config), "--format", "json", "--deadline", "4s")
    assert result.returncode == 3, result.stdout + result.stderr
    [unknown] = json.loads(result.stdout)["unknowns"]
    assert (unknown["source"], unknown["reason"]) == ("auth", "DEADLINE_EXCEEDED")
    assert "token endpoint" in unknown["fix"]
