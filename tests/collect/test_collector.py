"""Collectors go through the official clients to the twin; failures become unknowns, never crashes."""

from __future__ import annotations

import pytest

from infradiag.twin.scenario import ApiFault, Scenario, load_scenario
from tests.collect.gather import gather
from tests.conftest import SCENARIOS

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"


@pytest.fixture(scope="module")
def incident() -> Scenario:
    return load_scenario(INCIDENT)


def test_collectors_call_the_twin_through_official_clients_and_never_mutate(incident: Scenario) -> None:
    evidence, twin = gather(incident)
    calls = twin.log.calls()
    made = {(c.api, c.method, c.transport) for c in calls}
    assert ("run", "ListServices", "rest") in made
    assert ("vpcaccess", "ListConnectors", "rest") in made
    assert ("monitoring", "ListTimeSeries", "grpc") in made
    assert [c for c in calls if c.mutating] == []
    assert all(c.code == "OK" for c in calls)
    # The evidence is what the scenario holds, as read through the clients.
    assert sorted(s.name for s in evidence.services) == sorted(incident.service_short_names())
    (connector,) = evidence.connectors
    assert connector.max_instances == 3 and connector.instances_max == 3
    assert connector.cpu_p95 is not None and connector.cpu_p95 > 0.9
    assert len(evidence.probes) == len(incident.run.services)
    assert evidence.unknowns == []


def test_one_list_call_per_resource_type(incident: Scenario) -> None:
    _, twin = gather(incident)
    methods = [c.method for c in twin.log.calls()]
    assert methods.count("ListServices") == 1
    assert methods.count("ListConnectors") == 1


def test_permission_denied_on_monitoring_becomes_an_unknown_with_the_role(incident: Scenario) -> None:
    faulty = incident.model_copy(
        update={"apiFaults": [ApiFault(api="monitoring", error="PERMISSION_DENIED")]}
    )
    evidence, _ = gather(faulty)
    (unknown,) = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("monitoring", "PERMISSION_DENIED")
    assert "roles/monitoring.viewer" in unknown.fix
    assert evidence.connectors[0].cpu_p95 is None  # the rest of the evidence is still there
    assert len(evidence.probes) == 9


def test_disabled_api_names_the_api_to_enable(incident: Scenario) -> None:
    fault = ApiFault(api="vpcaccess", error="PERMISSION_DENIED", reason="SERVICE_DISABLED")
    evidence, _ = gather(incident.model_copy(update={"apiFaults": [fault]}))
    (unknown,) = evidence.unknowns
    assert unknown.reason == "SERVICE_DISABLED"
    assert "gcloud services enable vpcaccess.googleapis.com" in unknown.fix


def test_transient_unavailable_is_retried(incident: Scenario) -> None:
    fault = ApiFault(api="run", method="ListServices", error="UNAVAILABLE", times=1)
    evidence, twin = gather(incident.model_copy(update={"apiFaults": [fault]}))
    assert evidence.unknowns == []
    codes = [c.code for c in twin.log.calls() if c.method == "ListServices"]
    assert codes == ["UNAVAILABLE", "OK"]
