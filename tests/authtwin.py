"""A twin that requires credentials, for the tests of credentials (tests/twin/test_auth.py,
tests/collect/test_credentials.py): staging-healthy cut to two services, `frontend` public (allUsers may
invoke it) and `backend` private, and an environment without any real Google credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SCENARIOS

PROJECT = "acme-staging"
REGION = "us-central1"
NOW = "2026-09-15T23:06:52Z"
PUBLIC, PRIVATE = "frontend", "backend"
READER = f"reader@{PROJECT}.iam.gserviceaccount.com"
# google-auth must never reach for a real metadata server, ADC file or key from a test.
NO_REAL_GOOGLE = {
    "GCE_METADATA_HOST": "127.0.0.1:1",
    "GCE_METADATA_IP": "127.0.0.1:1",
    "NO_GCE_CHECK": "True",
}


def no_real_google(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No credentials anywhere: a metadata server address that refuses, an empty HOME (no gcloud ADC
    file), no GOOGLE_APPLICATION_CREDENTIALS or CLOUDSDK_CONFIG."""
    for name, value in NO_REAL_GOOGLE.items():
        monkeypatch.setenv(name, value)
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)


def scenario_data(**twin: Any) -> dict[str, Any]:
    """staging-healthy with two services and `twin: {requireCredentials: true, **twin}`."""
    data = yaml.safe_load((SCENARIOS / "staging-healthy.yaml").read_text())
    keep = (PUBLIC, PRIVATE)
    data["run"]["services"] = [s for s in data["run"]["services"] if s["name"].rsplit("/", 1)[-1] in keep]
    revisions = data["run"].get("revisions", [])
    data["run"]["revisions"] = [r for r in revisions if r["name"].split("/")[5] in keep]
    data["endpoints"] = {name: data["endpoints"][name] for name in keep if name in data["endpoints"]}
    data["iam"] = {
        f"projects/{PROJECT}/locations/{REGION}/services/{PUBLIC}": {
            "version": 1,
            "etag": "BwYk2d3xQ9E=",
            "bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}],
        }
    }
    data["twin"] = {"requireCredentials": True, "serviceAccounts": [READER], **twin}
    data.pop("expect", None)
    return data


def write_scenario(folder: Path, **twin: Any) -> Path:
    path = folder / "auth-required.yaml"
    path.write_text(yaml.safe_dump(scenario_data(**twin)))
    return path


def write_config(folder: Path, rest: str, grpc: str, *, key: Path | None, extra: str = "") -> Path:
    """An environment `twin` pointing at a running twin, its probes of `backend` sending an ID token."""
    path = folder / "infradiag.toml"
    credentials = f'credentials = "{key}"\n' if key is not None else ""
    path.write_text(
        "[environments.twin]\n"
        f'project = "{PROJECT}"\n'
        f'region = "{REGION}"\n'
        f'api_endpoint = "{rest}"\n'
        f'monitoring_endpoint = "{grpc}"\n'
        f"now = {NOW}\n"
        f"{credentials}{extra}"
        f"[environments.twin.probes.{PRIVATE}]\n"
        'auth = "id_token"\n'
    )
    return path
