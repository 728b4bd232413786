"""`infradiag twin serve SCENARIO --format json`, as a script uses it: first line JSON, official clients
against it, clean stop on SIGINT (docs/scenario-format.md, "Checking and serving a scenario")."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, run_v2

from tests.cli_process import served_twin
from tests.conftest import SCENARIOS, run_cli


@pytest.mark.process
def test_serve_prints_its_addresses_then_answers_until_sigint() -> None:
    with served_twin(SCENARIOS / "staging-healthy.yaml") as twin:
        addresses = twin.addresses
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
        assert twin.interrupt() == 0


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
