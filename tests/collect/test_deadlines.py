"""API reads end by the triage's deadline, and an API that cannot be reached is an unknown, not a crash.

The official clients talk to a twin (or to a port nothing listens on) over real loopback sockets.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from google.cloud import run_v2

from infradiag import runtime
from infradiag.collect.calls import ApiRead, ApiUnavailable, CallDeadline, call_api
from infradiag.collect.clients import Clients
from infradiag.config.model import ProbeSettings
from infradiag.evidence import Evidence
from infradiag.target import ApiEndpoints, Target
from infradiag.triage import gather_evidence
from infradiag.twin.scenario import ApiFault, Scenario, load_scenario
from infradiag.twin.server import Twin
from tests.conftest import SCENARIOS

HEALTHY = SCENARIOS / "staging-healthy.yaml"
LOCATION = "projects/acme-staging/locations/us-central1"


@pytest.fixture(scope="module")
def healthy() -> Scenario:
    return load_scenario(HEALTHY)


def target_for(scenario: Scenario, endpoints: ApiEndpoints) -> Target:
    return Target(
        environment="test",
        project=scenario.project,
        region=scenario.region,
        endpoints=endpoints,
        now=scenario.now,
        probe=ProbeSettings(probe_timeout_s=5),
    )


def gather_within(scenario: Scenario, seconds: float) -> tuple[Evidence, Twin, float]:
    """Evidence gathered from a twin of `scenario` with a deadline `seconds` away, and how long it took."""
    with Twin(scenario) as twin:
        assert twin.addresses is not None
        target = target_for(scenario, ApiEndpoints(rest=twin.addresses.rest, grpc=twin.addresses.grpc))
        began = time.monotonic()
        evidence = runtime.run(gather_evidence(target, scenario.now, began + seconds))
        took = time.monotonic() - began
    return evidence, twin, took


def with_faults(scenario: Scenario, *faults: ApiFault) -> Scenario:
    return scenario.model_copy(update={"apiFaults": list(faults)})


@pytest.fixture(scope="module")
def dead_port() -> Iterator[int]:
    """A loopback port that refuses every connection: bound (nobody else takes it), never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_api_slower_than_the_deadline_is_a_timed_out_unknown_and_the_rest_arrives(
    healthy: Scenario,
) -> None:
    slow = with_faults(healthy, ApiFault(api="vpcaccess", delayMs=60_000))
    evidence, _, took = gather_within(slow, 2.0)
    [unknown] = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("vpcaccess", "DEADLINE_EXCEEDED")
    assert "vpcaccess.googleapis.com timed out" in unknown.fix and "--deadline" in unknown.fix
    assert unknown.consequence == "connector state and capacity could not be checked"
    assert evidence.connectors == []
    # Everything else was read, and every service probed.
    assert len(evidence.services) == len(healthy.run.services) == len(evidence.probes)
    assert all(p.ok for p in evidence.probes)
    assert "vpcaccess" not in evidence.checked and "run" in evidence.checked
    # Not the 60 s delay, nor the 30 s a call used to get: the deadline (generous for a loaded machine).
    assert took < 15


def test_a_slow_monitoring_call_is_cut_at_the_deadline_too(healthy: Scenario) -> None:
    slow = with_faults(healthy, ApiFault(api="monitoring", method="ListAlertPolicies", delayMs=60_000))
    evidence, _, took = gather_within(slow, 2.0)
    [unknown] = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("monitoring", "DEADLINE_EXCEEDED")
    assert "alert policies could not be read" in unknown.consequence
    assert took < 15


def test_transient_errors_are_retried_only_until_the_deadline(healthy: Scenario) -> None:
    flaky = with_faults(healthy, ApiFault(api="sql", error="UNAVAILABLE"))
    evidence, twin, took = gather_within(flaky, 2.0)
    [unknown] = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("sql", "UNAVAILABLE")
    assert len([c for c in twin.log.calls() if c.api == "sql"]) > 1  # retried
    assert took < 15  # they used to be retried for 30 s


def test_each_page_of_a_list_gets_only_the_time_left(healthy: Scenario) -> None:
    # Three services, one per page, each page 0.4 s late: 1.2 s in all against a deadline 1 s away. A plain
    # number as timeout= would give every page the whole second again, and the list would succeed late.
    slow_pages = with_faults(healthy, ApiFault(api="run", method="ListServices", delayMs=400))
    with Twin(slow_pages) as twin:
        assert twin.addresses is not None
        client = Clients(ApiEndpoints(rest=twin.addresses.rest, grpc=twin.addresses.grpc)).run_services
        read = ApiRead("run", "services could not be listed", "acme-staging", twin.addresses.rest)

        def three_pages(deadline: CallDeadline) -> list[run_v2.Service]:
            request = {"parent": LOCATION, "page_size": 1}
            return list(client.list_services(request=request, timeout=deadline, retry=None))[:3]

        with pytest.raises(ApiUnavailable) as failure:
            call_api(read, three_pages, CallDeadline(time.monotonic() + 1.0))
        calls = [c for c in twin.log.calls() if c.method == "ListServices"]
    assert failure.value.unknown.reason == "DEADLINE_EXCEEDED"
    assert 2 <= len(calls) <= 3


def test_an_endpoint_nobody_listens_on_is_an_unknown_per_api(healthy: Scenario, dead_port: int) -> None:
    rest, grpc = f"http://127.0.0.1:{dead_port}", f"127.0.0.1:{dead_port}"
    target = target_for(healthy, ApiEndpoints(rest=rest, grpc=grpc))
    began = time.monotonic()
    evidence = runtime.run(gather_evidence(target, healthy.now, began + 20))
    took = time.monotonic() - began
    by_source = {u.source: u for u in evidence.unknowns}
    assert set(by_source) == {"run", "vpcaccess", "compute", "sql", "monitoring"}
    for source, unknown in by_source.items():
        where, key = (grpc, "monitoring_endpoint") if source == "monitoring" else (rest, "api_endpoint")
        assert unknown.reason == "UNAVAILABLE"
        assert unknown.fix.startswith(f"cannot connect to {where}: connection refused; check that `{key}`")
    assert evidence.services == [] and evidence.probes == []
    # A refusal is final: nothing waits for the deadline, 20 s away.
    assert took < 10
