"""Cloud NAT evidence read from the twin: each gateway's port and address configuration as routers.list
returns it, the capacity it gives, and its dropped packets per reason as Monitoring groups them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

from infradiag.collect import signals
from infradiag.collect.compute import with_port_demand
from infradiag.collect.monitoring import Signal, newest, query_series
from infradiag.evidence import Evidence, NatEvidence
from infradiag.twin.faults import FaultInjector
from infradiag.twin.monitoring import start_monitoring_server
from infradiag.twin.requestlog import RequestLog
from infradiag.twin.scenario import Scenario
from tests.collect.fleet import COMPUTE, NOW, PROJECT, REGION, fleet, series
from tests.collect.gather import gather

ADDRESSES = f"{COMPUTE}/regions/{REGION}/addresses"
DROPS = "router.googleapis.com/nat/dropped_sent_packets_count"


def _gateway(name: str) -> dict[str, Any]:
    return {
        "type": "nat_gateway",
        "labels": {"project_id": PROJECT, "region": REGION, "router_id": "42", "gateway_name": name},
    }


def _drops(gateway: str, reason: str, protocol: str, per_minute: int) -> dict[str, Any]:
    labels = {"reason": reason, "ip_protocol": protocol}
    return series(DROPS, _gateway(gateway), "DELTA", "INT64", lambda age: per_minute, labels)


def _scenario() -> dict[str, Any]:
    data = fleet(2)  # svc-1 has Direct VPC egress into staging-vpc
    (router,) = data["compute"]["routers"]
    base = {"sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES"}
    router["nats"] = [
        # As gcpdiag's captured nat1 router: one static address, 32000 ports per VM, no dynamic allocation.
        {
            "name": "manual-nat",
            **base,
            "natIps": [f"{ADDRESSES}/public-nat-ip-1"],
            "natIpAllocateOption": "MANUAL_ONLY",
            "minPortsPerVm": 32000,
            "enableDynamicPortAllocation": False,
            "enableEndpointIndependentMapping": False,
        },
        {
            "name": "eim-nat",
            **base,
            "natIpAllocateOption": "AUTO_ONLY",
            "minPortsPerVm": 64,
            "enableEndpointIndependentMapping": True,
        },
        {
            "name": "dynamic-nat",
            **base,
            "natIpAllocateOption": "AUTO_ONLY",
            "enableDynamicPortAllocation": True,
        },
        {
            "name": "two-ip-nat",
            **base,
            "natIpAllocateOption": "MANUAL_ONLY",
            "natIps": [f"{ADDRESSES}/a", f"{ADDRESSES}/b"],
        },
    ]
    kept = [s for s in data["monitoring"]["timeSeries"] if s["metric"]["type"] != DROPS]
    data["monitoring"]["timeSeries"] = [
        *kept,
        _drops("manual-nat", "OUT_OF_RESOURCES", "TCP", 3),
        _drops("manual-nat", "OUT_OF_RESOURCES", "UDP", 1),
        _drops("eim-nat", "ENDPOINT_INDEPENDENCE_CONFLICT", "TCP", 7),
    ]
    return data


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return gather(Scenario.model_validate(_scenario()))[0]


def _nat(evidence: Evidence, name: str) -> NatEvidence:
    (nat,) = [n for n in evidence.nats if n.name == name]
    return nat


def test_manual_nat_reads_its_addresses_ports_and_capacity(evidence: Evidence) -> None:
    nat = _nat(evidence, "manual-nat")
    assert (nat.nat_ip_allocate_option, nat.nat_ips) == ("MANUAL_ONLY", ["public-nat-ip-1"])
    assert (nat.min_ports_per_vm, nat.min_ports_per_vm_set) == (32000, True)
    # minPortsPerVm is rounded up to a power of two: 32768 ports, so one NAT IP (64512 ports) serves 1 VM.
    assert (nat.ports_per_vm, nat.port_capacity, nat.vms_with_ports) == (32768, 64512, 1)
    assert (nat.enable_dynamic_port_allocation, nat.enable_endpoint_independent_mapping) == (False, False)
    assert nat.max_ports_per_vm is None  # only meaningful with dynamic port allocation


def test_unset_fields_take_googles_documented_defaults(evidence: Evidence) -> None:
    dynamic = _nat(evidence, "dynamic-nat")
    assert (dynamic.min_ports_per_vm, dynamic.min_ports_per_vm_set, dynamic.max_ports_per_vm) == (
        32,
        False,
        65536,
    )
    assert dynamic.enable_endpoint_independent_mapping is None  # not returned: not guessed
    assert (dynamic.port_capacity, dynamic.vms_with_ports) == (None, None)  # AUTO_ONLY adds addresses
    two = _nat(evidence, "two-ip-nat")
    assert (two.enable_dynamic_port_allocation, two.min_ports_per_vm, two.ports_per_vm) == (False, 64, 64)
    assert (two.port_capacity, two.vms_with_ports) == (2 * 64512, 2 * 64512 // 64)


def test_port_users_and_what_a_manual_gateway_would_need(evidence: Evidence) -> None:
    nat = _nat(evidence, "manual-nat")
    # The connector's most instances over the window (3) and svc-1's active Direct VPC egress instances (8).
    assert nat.port_users == [
        "connector staging-conn: 3 instances",
        "service svc-1 (Direct VPC egress): 8 instances",
    ]
    assert nat.vms_needing_ports == 11
    # ceil(11 x 32768 / 64512) = 6 NAT IPs; or 64512 // 11 = 5864 ports each, the power of two below: 4096.
    assert (nat.nat_ips_needed, nat.ports_per_vm_that_fit) == (6, 4096)
    two = _nat(evidence, "two-ip-nat")
    assert (two.nat_ips_needed, two.ports_per_vm_that_fit) == (1, 8192)
    assert _nat(evidence, "eim-nat").nat_ips_needed is None  # AUTO_ONLY: Google adds the addresses


def _manual_gateway(**fields: Any) -> NatEvidence:
    """A MANUAL_ONLY gateway whose NAT IPs hold 64512 ports, as `fields` (what it serves) complete it."""
    return NatEvidence(
        name="n",
        router="r",
        network="v",
        region="x",
        all_subnets=True,
        nat_ip_allocate_option="MANUAL_ONLY",
        port_capacity=64512,
        **fields,
    )


def test_no_power_of_two_fits_below_the_least_ports_per_vm() -> None:
    nat = _manual_gateway(vms_with_ports=1008, ports_per_vm=64)
    crowded = with_port_demand(nat, ["connector c: 3000 instances"], 3000)
    # 64512 // 3000 = 21 ports each: below the least a VM may be given, so no minPortsPerVm fits.
    assert (crowded.nat_ips_needed, crowded.ports_per_vm_that_fit) == (3, None)
    assert with_port_demand(nat, [], None).nat_ips_needed is None


def test_out_of_resources_drops_are_summed_over_protocols(evidence: Evidence) -> None:
    nat = _nat(evidence, "manual-nat")
    # (3 TCP + 1 UDP) a minute over the 15-minute window; no conflict series: 0, not unknown.
    assert (nat.dropped_out_of_resources, nat.dropped_endpoint_independence_conflict) == (60, 0)


def test_endpoint_independence_conflict_drops_are_their_own_reason(evidence: Evidence) -> None:
    nat = _nat(evidence, "eim-nat")
    assert (nat.dropped_endpoint_independence_conflict, nat.dropped_out_of_resources) == (105, 0)
    assert nat.enable_endpoint_independent_mapping is True
    assert _nat(evidence, "two-ip-nat").dropped_endpoint_independence_conflict == 0


@pytest.fixture
def metrics() -> Iterator[Any]:
    data = _scenario()
    data["monitoring"]["timeSeries"] = [
        _drops("manual-nat", "OUT_OF_RESOURCES", "TCP", 3),
        _drops("manual-nat", "OUT_OF_RESOURCES", "UDP", 1),
        _drops("manual-nat", "ENDPOINT_INDEPENDENCE_CONFLICT", "TCP", 2),
        _drops("eim-nat", "ENDPOINT_INDEPENDENCE_CONFLICT", "TCP", 7),
    ]
    scenario = Scenario.model_validate(data)
    server = start_monitoring_server(scenario, RequestLog(), FaultInjector(scenario.apiFaults))
    channel = grpc.insecure_channel(server.address)
    try:
        yield monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))
    finally:
        channel.close()
        server.stop()


def test_twin_groups_by_the_reason_label_and_sums_the_rest(metrics: Any) -> None:
    # https://cloud.google.com/monitoring/api/v3/aggregation: series that share the group-by label values
    # are reduced into one; the labels not grouped by (ip_protocol) are dropped.
    values = newest(query_series(metrics, PROJECT, REGION, NOW, signals.NAT_DROPPED_SENT_PACKETS, 5.0))
    assert values == {
        ("manual-nat", "OUT_OF_RESOURCES"): 60,
        ("manual-nat", "ENDPOINT_INDEPENDENCE_CONFLICT"): 30,
        ("eim-nat", "ENDPOINT_INDEPENDENCE_CONFLICT"): 105,
    }


@pytest.mark.parametrize("selector", ["metric.label.reason", "metric.labels.reason"])
def test_twin_filters_on_the_reason_label_either_spelling(metrics: Any, selector: str) -> None:
    # https://cloud.google.com/monitoring/api/v3/filters: metric.label.KEY and metric.labels.KEY.
    conflicts = Signal(
        "conflicts",
        DROPS,
        "nat_gateway",
        "ALIGN_DELTA",
        "REDUCE_SUM",
        ("resource.labels.gateway_name",),
        extra_filter=f'{selector} = "ENDPOINT_INDEPENDENCE_CONFLICT"',
        region_label="resource.labels.region",
        window=timedelta(minutes=15),
    )
    values = newest(query_series(metrics, PROJECT, REGION, NOW, conflicts, 5.0))
    assert values == {("manual-nat",): 30, ("eim-nat",): 105}


# routers.getRouterStatus (https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus):
# natStatus[] as gcpdiag captured it for nat1's public-nat-gateway (one user-allocated IP, 2 more needed).
def _status_scenario(**extra: Any) -> Scenario:
    data = _scenario()
    data["monitoring"]["timeSeries"] = [
        s for s in data["monitoring"]["timeSeries"] if not s["metric"]["type"].startswith("router.googleapis")
    ]
    (router,) = data["compute"]["routers"]
    # A second router without NAT (e.g. for BGP only): its status says nothing about NAT, so it is not read.
    data["compute"]["routers"].append({"name": "bgp-router", "region": REGION, "network": router["network"]})
    data["compute"]["routerStatus"] = [
        {
            "router": router["name"],
            "region": REGION,
            "result": {
                "network": router["network"],
                "natStatus": [
                    {
                        "name": "manual-nat",
                        "userAllocatedNatIpResources": [f"{ADDRESSES}/public-nat-ip-1"],
                        "userAllocatedNatIps": ["35.204.78.175"],
                        "minExtraNatIpsNeeded": 2,
                        "numVmEndpointsWithNatMappings": 2,
                    },
                    {"name": "two-ip-nat", "minExtraNatIpsNeeded": 0, "numVmEndpointsWithNatMappings": 3},
                    {"name": "dynamic-nat", "autoAllocatedNatIps": ["34.1.2.3"]},
                ],
            },
        }
    ]
    data.update(extra)
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def with_status() -> tuple[Evidence, Any]:
    return gather(_status_scenario())


def test_router_status_says_how_many_nat_ips_a_gateway_lacks(with_status: tuple[Evidence, Any]) -> None:
    evidence, twin = with_status
    nat = _nat(evidence, "manual-nat")
    assert (nat.min_extra_nat_ips_needed, nat.vm_endpoints_with_mappings) == (2, 2)
    # Google's count: its 1 NAT IP plus 2 more; the connector and svc-1 alone (11 VMs) would need 6.
    assert nat.nat_ips_needed == 6
    two = _nat(evidence, "two-ip-nat")
    assert (two.min_extra_nat_ips_needed, two.vm_endpoints_with_mappings) == (0, 3)
    # Fields Google left out stay unknown; a gateway without a natStatus entry keeps None.
    assert (
        _nat(evidence, "dynamic-nat").min_extra_nat_ips_needed,
        _nat(evidence, "eim-nat").min_extra_nat_ips_needed,
    ) == (None, None)
    assert "router_status" in evidence.checked
    (call,) = [c for c in twin.log.calls() if c.method == "routers.getRouterStatus"]
    assert call.target.endswith(f"/regions/{REGION}/routers/staging-router/getRouterStatus")


def test_status_alone_sets_the_nat_ips_a_manual_gateway_needs() -> None:
    nat = _manual_gateway(nat_ips=["ip-1"], vms_with_ports=1, ports_per_vm=32768, min_extra_nat_ips_needed=2)
    # No connector or service explains the demand, Google's status still does: 1 + 2 NAT IPs.
    assert with_port_demand(nat, [], None).nat_ips_needed == 3
    auto = nat.model_copy(update={"nat_ip_allocate_option": "AUTO_ONLY", "port_capacity": None})
    assert with_port_demand(auto, [], None).nat_ips_needed is None  # meaningless for AUTO_ONLY


def test_no_status_read_without_nat() -> None:
    data = _status_scenario().model_dump(by_alias=True, exclude_none=True)
    for router in data["compute"]["routers"]:
        router.pop("nats", None)
    data["compute"]["routerStatus"] = []
    evidence, twin = gather(Scenario.model_validate(data))
    assert evidence.nats == []
    assert not [c for c in twin.log.calls() if c.method == "routers.getRouterStatus"]


def test_refused_router_status_is_an_unknown_and_leaves_the_gateways() -> None:
    fault = {"api": "compute", "method": "routers.getRouterStatus", "error": "PERMISSION_DENIED"}
    evidence, _ = gather(_status_scenario(apiFaults=[fault]))
    (unknown,) = [u for u in evidence.unknowns if u.source == "compute"]
    assert unknown.reason == "PERMISSION_DENIED"
    assert "Cloud Router status" in unknown.consequence and "vpc.nat_exhausted" in unknown.consequence
    nat = _nat(evidence, "manual-nat")
    assert nat.nat_ip_allocate_option == "MANUAL_ONLY" and nat.min_extra_nat_ips_needed is None
    assert "nats" in evidence.checked and "router_status" not in evidence.checked
