"""Every evidence source, read from the twin through the official clients, in a fixed number of calls."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from infradiag.collect import signals
from infradiag.evidence import Evidence, InvokerEvidence
from infradiag.twin.scenario import Scenario
from infradiag.twin.server import Twin
from tests.collect.fleet import CONNECTOR, LOC, PROJECT, REGION, fleet
from tests.collect.gather import gather as gather_from_twin

LIST_CALLS = {
    ("run", "ListServices", "rest"),
    ("run", "ListRevisions", "rest"),
    ("run", "ListJobs", "rest"),
    ("vpcaccess", "ListConnectors", "rest"),
    ("compute", "firewalls.list", "rest"),
    ("compute", "subnetworks.list", "rest"),
    ("compute", "routers.list", "rest"),
    ("compute", "backendServices.aggregatedList", "rest"),
    ("compute", "healthChecks.aggregatedList", "rest"),
    ("compute", "networkEndpointGroups.aggregatedList", "rest"),
    ("sql", "instances.list", "rest"),
    ("monitoring", "ListAlertPolicies", "grpc"),
}
# The connector reaches a Cloud SQL private IP on its network: the firewall policies in effect there are read
# (no network firewall policy is in effect, so networks.get is not needed for the enforcement order).
POLICY_CALLS = {
    ("compute", "networks.getEffectiveFirewalls", "rest"),
    ("compute", "regionNetworkFirewallPolicies.getEffectiveFirewalls", "rest"),
}

# staging-router holds the fleet's Cloud NAT gateway: its status is read once (routers.getRouterStatus).
NAT_STATUS_CALLS = {("compute", "routers.getRouterStatus", "rest")}


def gather(data: dict[str, Any]) -> tuple[Evidence, Twin]:
    return gather_from_twin(Scenario.model_validate(data))


@pytest.fixture(scope="module")
def three() -> tuple[Evidence, Twin]:
    return gather(fleet(3))


def test_each_list_once_each_signal_once_health_per_backend_and_nothing_mutating(
    three: tuple[Evidence, Twin],
) -> None:
    evidence, twin = three
    calls = twin.log.calls()
    made = Counter((c.api, c.method, c.transport) for c in calls)
    for call in LIST_CALLS | POLICY_CALLS | NAT_STATUS_CALLS:
        assert made[call] == 1, call
    assert made[("monitoring", "ListTimeSeries", "grpc")] == len(signals.SIGNALS)
    # getHealth only for the instance-group backend; the serverless NEG has no health to ask for.
    assert made[("compute", "regionBackendServices.getHealth", "rest")] == 1
    expected = len(LIST_CALLS) + len(POLICY_CALLS) + len(NAT_STATUS_CALLS) + len(signals.SIGNALS) + 1
    assert sum(made.values()) == expected
    assert [c for c in calls if c.mutating] == []
    assert all(c.code == "OK" for c in calls)
    assert evidence.unknowns == []
    for source in (
        "run",
        "vpcaccess",
        "compute",
        "sql",
        "monitoring",
        "revisions",
        "jobs",
        "nats",
        "alerting",
    ):
        assert source in evidence.checked
    assert "iam" not in evidence.checked and "invokers" not in evidence.checked  # no probe was refused


def test_api_calls_do_not_grow_with_the_number_of_services() -> None:
    counts = []
    for size in (2, 20):
        evidence, twin = gather(fleet(size))
        assert len(evidence.services) == size
        counts.append(Counter((c.api, c.method) for c in twin.log.calls()))
    assert counts[0] == counts[1]


def test_connector_load_and_throughput(three: tuple[Evidence, Twin]) -> None:
    (connector,) = three[0].connectors
    assert connector.instances_max == 3 and connector.max_instances == 3
    assert connector.cpu_p95 is not None and connector.cpu_p95 >= 0.9
    # The busiest minute: (6e6 + 1.5e6) bytes / 60 s * 8 bits = 1 Mbps; the 15-minute average would be lower.
    assert connector.throughput_mbps == pytest.approx(1.0)


def test_service_details_and_load(three: tuple[Evidence, Twin]) -> None:
    by_name = {s.name: s for s in three[0].services}
    svc0, svc1 = by_name["svc-0"], by_name["svc-1"]
    assert [c.reason for c in svc0.conditions][:1] == ["HEALTH_CHECK_CONTAINER_ERROR"]
    assert svc0.traffic[0].revision == "svc-0-00001-abc"
    assert svc0.cloudsql_instances == [f"{PROJECT}:{REGION}:main-db"]
    assert (svc1.direct_egress_network, svc1.direct_egress_subnet) == ("staging-vpc", "run-direct")
    # Two revisions of 4 active instances each (idle ones not counted); 15 one-minute points per window.
    assert svc0.load.instances_active_max == 8
    assert (svc0.load.requests_total, svc0.load.requests_5xx) == (360, 60)
    assert (svc1.load.requests_total, svc1.load.requests_5xx) == (300, 0)
    assert svc0.load.memory_p99 is None  # no such series in the scenario


def test_jobs_and_the_connector_they_route_through(three: tuple[Evidence, Twin]) -> None:
    export, reindex = three[0].jobs
    assert (export.name, export.connector, export.egress) == (
        "nightly-export",
        CONNECTOR,
        "PRIVATE_RANGES_ONLY",
    )
    assert (export.latest_execution, export.latest_execution_status) == (
        "nightly-export-x7k2p",
        "EXECUTION_FAILED",
    )
    assert export.cloudsql_instances == [f"{PROJECT}:{REGION}:main-db"] and export.ready
    assert (reindex.connector, reindex.direct_egress_network, reindex.direct_egress_subnet) == (
        None,
        "staging-vpc",
        "run-direct",
    )
    assert reindex.latest_execution is None and reindex.latest_execution_status is None


def test_network_evidence(three: tuple[Evidence, Twin]) -> None:
    evidence = three[0]
    (subnet,) = evidence.subnets
    assert (subnet.name, subnet.prefix_length, subnet.usable_addresses) == ("run-direct", 28, 12)
    assert {f.name: f.action for f in evidence.firewalls} == {
        "allow-connector-sql": "allow",
        "deny-all-egress": "deny",
    }
    (nat,) = evidence.nats
    # Only OUT_OF_RESOURCES drops count: 5 a minute over 15 minutes.
    assert (nat.name, nat.all_subnets, nat.subnets) == ("staging-nat", False, ["run-direct"])
    assert (nat.dropped_out_of_resources, nat.allocation_failed) == (75, True)


def test_load_balancing_evidence(three: tuple[Evidence, Twin]) -> None:
    evidence = three[0]
    by_name = {b.name: b for b in evidence.backend_services}
    (web,) = by_name["web-backend"].backends
    assert (web.kind, web.cloud_run_service, web.healthy) == ("serverless_neg", "svc-0", None)
    assert by_name["web-backend"].health_checks == ["web-hc"]
    (legacy,) = by_name["legacy-backend"].backends
    assert (legacy.kind, legacy.healthy, legacy.unhealthy) == ("instance_group", 1, 1)
    (check,) = evidence.health_checks
    assert (check.name, check.port, check.request_path) == ("web-hc", 8080, "/healthz")


def test_sql_evidence(three: tuple[Evidence, Twin]) -> None:
    by_name = {i.name: i for i in three[0].sql_instances}
    main, mysql = by_name["main-db"], by_name["legacy-mysql"]
    # PostgreSQL: the peak of each database summed (300 + 90); MySQL: network/connections.
    assert (main.connections_max, main.max_connections, main.up_min) == (390, 400, 0)
    assert main.cpu_max == pytest.approx(0.64)
    assert (mysql.connections_max, mysql.max_connections, mysql.state) == (120, 150, "MAINTENANCE")


def test_alert_policies(three: tuple[Evidence, Twin]) -> None:
    policies = {p.display_name: p for p in three[0].alert_policies}
    assert policies["Connector CPU"].enabled
    assert policies["Connector CPU"].metric_types == ["vpcaccess.googleapis.com/connector/cpu/utilizations"]
    assert not policies["5xx (disabled)"].enabled
    assert policies["5xx (disabled)"].metric_types == ["run.googleapis.com/request_count"]


def test_revisions_of_every_service_in_one_call(three: tuple[Evidence, Twin]) -> None:
    revisions = {r.name: r for r in three[0].revisions}
    assert len(revisions) == 4
    new = revisions["svc-0-00002-new"]
    assert (new.service, new.ready, new.reason) == ("svc-0", False, "CONTAINER_MISSING")


def test_invoker_policy_is_read_only_for_services_whose_probe_was_refused() -> None:
    refused = f"{LOC}/services/svc-2"
    policy = {
        "bindings": [
            {"role": "roles/run.invoker", "members": ["serviceAccount:ci@acme.iam.gserviceaccount.com"]}
        ]
    }
    data = fleet(3, endpoints={"svc-2": {"*": {"status": 403, "body": "Forbidden"}}}, iam={refused: policy})
    evidence, twin = gather(data)
    assert evidence.invokers == [
        InvokerEvidence(service="svc-2", members=["serviceAccount:ci@acme.iam.gserviceaccount.com"])
    ]
    policy_calls = [c for c in twin.log.calls() if c.method == "GetIamPolicy"]
    assert [c.target for c in policy_calls] == [f"/v2/{refused}:getIamPolicy"]
    assert {"iam", "invokers"} <= set(evidence.checked)


def test_compute_permission_denied_becomes_one_unknown_and_the_rest_still_comes_back() -> None:
    evidence, twin = gather(fleet(3, apiFaults=[{"api": "compute", "error": "PERMISSION_DENIED"}]))
    (unknown,) = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("compute", "PERMISSION_DENIED")
    assert "roles/compute.networkViewer" in unknown.fix
    assert "Cloud NAT" in unknown.consequence and "firewall" in unknown.consequence
    assert evidence.firewalls == [] and evidence.nats == [] and evidence.backend_services == []
    assert "compute" not in evidence.checked and "firewalls" not in evidence.checked
    assert len(evidence.sql_instances) == 2 and len(evidence.connectors) == 1
    assert {"sql", "run", "monitoring"} <= set(evidence.checked)
    assert not [c for c in twin.log.calls() if c.method.endswith("getHealth")]


def test_disabled_sql_admin_api_names_it() -> None:
    fault = {"api": "sql", "error": "PERMISSION_DENIED", "reason": "SERVICE_DISABLED"}
    evidence, _ = gather(fleet(2, apiFaults=[fault]))
    (unknown,) = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("sql", "SERVICE_DISABLED")
    assert "gcloud services enable sqladmin.googleapis.com" in unknown.fix
    assert evidence.sql_instances == [] and "sql" not in evidence.checked


def test_failed_metric_queries_leave_metrics_unknown_but_not_the_alert_policies() -> None:
    fault = {"api": "monitoring", "method": "ListTimeSeries", "error": "PERMISSION_DENIED"}
    evidence, _ = gather(fleet(2, apiFaults=[fault]))
    (unknown,) = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("monitoring", "PERMISSION_DENIED")
    assert "Cloud NAT" in unknown.consequence and "connector load" in unknown.consequence
    (nat,) = evidence.nats
    assert (nat.dropped_out_of_resources, nat.allocation_failed) == (None, None)
    assert evidence.connectors[0].throughput_mbps is None
    assert evidence.services[0].load.requests_5xx is None
    assert len(evidence.alert_policies) == 2
    assert "alerting" in evidence.checked and "monitoring" not in evidence.checked


def test_failed_get_health_leaves_backend_health_unknown() -> None:
    fault = {"api": "compute", "method": "regionBackendServices.getHealth", "error": "INTERNAL"}
    evidence, _ = gather(fleet(2, apiFaults=[fault]))
    (unknown,) = evidence.unknowns
    assert (unknown.source, unknown.reason) == ("compute", "INTERNAL")
    assert "backend health" in unknown.consequence
    legacy = next(b for b in evidence.backend_services if b.name == "legacy-backend")
    assert legacy.backends[0].healthy is None
    assert "backend_services" in evidence.checked and "backend_health" not in evidence.checked
