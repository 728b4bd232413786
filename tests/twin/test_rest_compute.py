"""Compute Engine v1 on the twin, driven only through google-cloud-compute's REST clients.

Follows the Compute v1 REST reference: list methods (e.g.
https://cloud.google.com/compute/docs/reference/rest/v1/networks/list: maxResults 0..500, filter, orderBy),
aggregatedList (https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/aggregatedList),
backendServices.getHealth (https://cloud.google.com/compute/docs/reference/rest/v1/backendServices/getHealth),
and Compute's legacy error shape (google_errors.py cites captured bodies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from infradiag.twin.scenario import Scenario
from infradiag.twin.server import Twin
from tests.twin.api_faults import FAULT_CODE_NAMES, raised_by_fault
from tests.twin.rest_twin import COMPUTE, NUMBER, PROJECT, calls, fault, rest_kwargs, scenario, serve

CENTRAL = f"{COMPUTE}/regions/us-central1"
NETWORK = f"{COMPUTE}/global/networks/staging-vpc"


def firewall(
    name: str, priority: int, direction: str = "INGRESS", created: str = "2026-01-01"
) -> dict[str, Any]:
    return {
        "name": name,
        "network": NETWORK,
        "priority": priority,
        "direction": direction,
        "allowed": [{"IPProtocol": "tcp", "ports": ["5432"]}],
        "creationTimestamp": f"{created}T10:00:00.000-07:00",
    }


COMPUTE_SECTION: dict[str, Any] = {
    "networks": [
        {"selfLink": NETWORK, "name": "staging-vpc", "autoCreateSubnetworks": False},
        *({"name": f"net-{i}"} for i in range(6)),
    ],
    "subnetworks": [
        {"name": "s-central", "region": CENTRAL, "ipCidrRange": "10.0.0.0/24", "network": NETWORK},
        {"name": "s-east", "region": "us-east1", "ipCidrRange": "10.1.0.0/24"},
        {
            "selfLink": f"{COMPUTE}/regions/europe-west1/subnetworks/s-eu",
            "name": "s-eu",
            "ipCidrRange": "10.2.0.0/24",
        },
    ],
    "firewalls": [
        firewall("fw-0", 1000, created="2026-01-03"),
        firewall("fw-1", 900, created="2026-01-01"),
        firewall("fw-2", 1000, "EGRESS", created="2026-01-05"),
        firewall("fw-3", 65534, created="2026-01-02"),
        firewall("deny-all", 65535, "EGRESS", created="2026-01-04"),
    ],
    "routers": [
        {
            "name": "nat-router",
            "region": CENTRAL,
            "network": NETWORK,
            "nats": [
                {
                    "name": "staging-nat",
                    "natIpAllocateOption": "AUTO_ONLY",
                    "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
                    "minPortsPerVm": 64,
                    "enableDynamicPortAllocation": False,
                }
            ],
        }
    ],
    "backendServices": [
        {
            "selfLink": f"{COMPUTE}/global/backendServices/web-bs",
            "name": "web-bs",
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "timeoutSec": 30,
            "backends": [{"group": f"{COMPUTE}/zones/us-central1-a/networkEndpointGroups/zonal-neg"}],
        },
        {"name": "int-bs", "region": CENTRAL, "loadBalancingScheme": "INTERNAL_MANAGED"},
    ],
    "backendServiceHealth": {
        "web-bs": {"healthStatus": [{"healthState": "UNHEALTHY", "ipAddress": "10.0.0.7", "port": 8080}]},
        f"{COMPUTE}/regions/us-central1/backendServices/int-bs": {
            "healthStatus": [{"healthState": "HEALTHY"}]
        },
    },
    "healthChecks": [
        {"name": "hc-global", "type": "HTTP", "httpHealthCheck": {"port": 8080, "requestPath": "/health"}},
        {"name": "hc-regional", "region": "us-central1", "type": "TCP"},
    ],
    "networkEndpointGroups": [
        {
            "name": "zonal-neg",
            "zone": f"{COMPUTE}/zones/us-central1-a",
            "networkEndpointType": "GCE_VM_IP_PORT",
        },
        {
            "name": "run-neg",
            "region": CENTRAL,
            "networkEndpointType": "SERVERLESS",
            "cloudRun": {"service": "backend"},
        },
        {"name": "internet-neg", "networkEndpointType": "INTERNET_FQDN_PORT"},
    ],
    "urlMaps": [{"name": "web-map", "defaultService": f"{COMPUTE}/global/backendServices/web-bs"}],
    "instanceGroups": [
        {
            "name": "web-ig",
            "zone": f"{COMPUTE}/zones/us-central1-a",
            "namedPorts": [{"name": "http", "port": 8080}],
        },
        {"name": "web-rig", "region": CENTRAL, "namedPorts": [{"name": "http", "port": 80}]},
    ],
    "instances": [
        {
            "name": f"vm-{i}",
            "zone": f"{COMPUTE}/zones/us-central1-{zone}",
            "tags": {"items": ["web"]},
            "networkInterfaces": [{"network": NETWORK, "networkIP": f"10.0.0.{i}"}],
        }
        for i, zone in ((1, "a"), (2, "a"), (3, "b"))
    ],
    "forwardingRules": [
        {"name": "web-fr", "IPAddress": "34.1.2.3", "target": f"{COMPUTE}/global/targetHttpsProxies/web"},
        {
            "name": "int-fr",
            "region": CENTRAL,
            "IPAddress": "10.0.0.9",
            "loadBalancingScheme": "INTERNAL_MANAGED",
        },
    ],
}


def compute_scenario(**extra: Any) -> Scenario:
    return scenario(compute=COMPUTE_SECTION, **extra)


@pytest.fixture(scope="module")
def twin() -> Any:
    with serve(compute_scenario()) as running:
        yield running


def client(twin: Twin, cls: Callable[..., Any]) -> Any:
    return cls(**rest_kwargs(twin))


# (client class, list kwargs, names listed, get kwargs): one row per collection and scope.
LIST_AND_GET = [
    (
        compute_v1.NetworksClient,
        {},
        ["net-0", "net-1", "net-2", "net-3", "net-4", "net-5", "staging-vpc"],
        {"network": "staging-vpc"},
    ),
    (
        compute_v1.SubnetworksClient,
        {"region": "us-central1"},
        ["s-central"],
        {"region": "us-central1", "subnetwork": "s-central"},
    ),
    (
        compute_v1.SubnetworksClient,
        {"region": "europe-west1"},
        ["s-eu"],
        {"region": "europe-west1", "subnetwork": "s-eu"},
    ),
    (compute_v1.FirewallsClient, {}, ["deny-all", "fw-0", "fw-1", "fw-2", "fw-3"], {"firewall": "fw-1"}),
    (
        compute_v1.RoutersClient,
        {"region": "us-central1"},
        ["nat-router"],
        {"region": "us-central1", "router": "nat-router"},
    ),
    (compute_v1.BackendServicesClient, {}, ["web-bs"], {"backend_service": "web-bs"}),
    (
        compute_v1.RegionBackendServicesClient,
        {"region": "us-central1"},
        ["int-bs"],
        {"region": "us-central1", "backend_service": "int-bs"},
    ),
    (compute_v1.HealthChecksClient, {}, ["hc-global"], {"health_check": "hc-global"}),
    (
        compute_v1.RegionHealthChecksClient,
        {"region": "us-central1"},
        ["hc-regional"],
        {"region": "us-central1", "health_check": "hc-regional"},
    ),
    (
        compute_v1.NetworkEndpointGroupsClient,
        {"zone": "us-central1-a"},
        ["zonal-neg"],
        {"zone": "us-central1-a", "network_endpoint_group": "zonal-neg"},
    ),
    (
        compute_v1.RegionNetworkEndpointGroupsClient,
        {"region": "us-central1"},
        ["run-neg"],
        {"region": "us-central1", "network_endpoint_group": "run-neg"},
    ),
    (
        compute_v1.GlobalNetworkEndpointGroupsClient,
        {},
        ["internet-neg"],
        {"network_endpoint_group": "internet-neg"},
    ),
    (compute_v1.UrlMapsClient, {}, ["web-map"], {"url_map": "web-map"}),
    (
        compute_v1.ForwardingRulesClient,
        {"region": "us-central1"},
        ["int-fr"],
        {"region": "us-central1", "forwarding_rule": "int-fr"},
    ),
    (compute_v1.GlobalForwardingRulesClient, {}, ["web-fr"], {"forwarding_rule": "web-fr"}),
    (
        compute_v1.InstanceGroupsClient,
        {"zone": "us-central1-a"},
        ["web-ig"],
        {"zone": "us-central1-a", "instance_group": "web-ig"},
    ),
    (
        compute_v1.RegionInstanceGroupsClient,
        {"region": "us-central1"},
        ["web-rig"],
        {"region": "us-central1", "instance_group": "web-rig"},
    ),
    (
        compute_v1.InstancesClient,
        {"zone": "us-central1-a"},
        ["vm-1", "vm-2"],
        {"zone": "us-central1-a", "instance": "vm-1"},
    ),
]


@pytest.mark.parametrize(
    ("cls", "where", "names", "get"), LIST_AND_GET, ids=lambda v: getattr(v, "__name__", "")
)
def test_list_and_get_each_collection_in_each_scope(
    twin: Twin, cls: Callable[..., Any], where: dict[str, str], names: list[str], get: dict[str, str]
) -> None:
    api = client(twin, cls)
    assert [item.name for item in api.list(project=PROJECT, **where)] == names
    assert api.get(project=PROJECT, **get).name == next(
        v for k, v in get.items() if k not in ("region", "zone")
    )


def test_resources_are_served_as_written_nat_config_included(twin: Twin) -> None:
    router = client(twin, compute_v1.RoutersClient).get(
        project=PROJECT, region="us-central1", router="nat-router"
    )
    (nat,) = router.nats
    assert (nat.name, nat.nat_ip_allocate_option, nat.min_ports_per_vm) == ("staging-nat", "AUTO_ONLY", 64)
    assert nat.enable_dynamic_port_allocation is False
    neg = client(twin, compute_v1.RegionNetworkEndpointGroupsClient).get(
        project=PROJECT, region="us-central1", network_endpoint_group="run-neg"
    )
    assert neg.cloud_run.service == "backend"
    # Written without a selfLink, served without one: nothing is invented.
    assert neg.self_link == ""


def test_list_pages_with_max_results_and_keeps_the_list_envelope(twin: Twin) -> None:
    networks = client(twin, compute_v1.NetworksClient)
    pager = networks.list(request=compute_v1.ListNetworksRequest(project=PROJECT, max_results=2))
    pages = list(pager.pages)
    assert [[n.name for n in page.items] for page in pages] == [
        ["net-0", "net-1"],
        ["net-2", "net-3"],
        ["net-4", "net-5"],
        ["staging-vpc"],
    ]
    assert {page.kind for page in pages} == {"compute#networkList"}
    assert pages[0].self_link == f"{COMPUTE}/global/networks"
    assert pages[0].id == f"projects/{PROJECT}/global/networks"
    assert [bool(page.next_page_token) for page in pages] == [True, True, True, False]


def test_aggregated_list_pages_across_scopes_with_no_results_warnings(twin: Twin) -> None:
    subnetworks = client(twin, compute_v1.SubnetworksClient)
    pager = subnetworks.aggregated_list(request={"project": PROJECT, "max_results": 1})
    pages = list(pager.pages)
    assert len(pages) == 3
    found = []
    for page in pages:
        assert page.kind == "compute#subnetworkAggregatedList"
        assert set(page.items) == {"regions/europe-west1", "regions/us-central1", "regions/us-east1"}
        for scope, scoped in page.items.items():
            if scoped.subnetworks:
                found += [(scope, s.name) for s in scoped.subnetworks]
            else:
                assert scoped.warning.code == "NO_RESULTS_ON_PAGE"
                assert scoped.warning.data[0].value == scope
    assert found == [
        ("regions/europe-west1", "s-eu"),
        ("regions/us-central1", "s-central"),
        ("regions/us-east1", "s-east"),
    ]


@pytest.mark.parametrize(
    ("cls", "attribute", "expected"),
    [
        (
            compute_v1.BackendServicesClient,
            "backend_services",
            {("global", "web-bs"), ("regions/us-central1", "int-bs")},
        ),
        (
            compute_v1.HealthChecksClient,
            "health_checks",
            {("global", "hc-global"), ("regions/us-central1", "hc-regional")},
        ),
        (
            compute_v1.NetworkEndpointGroupsClient,
            "network_endpoint_groups",
            {
                ("zones/us-central1-a", "zonal-neg"),
                ("regions/us-central1", "run-neg"),
                ("global", "internet-neg"),
            },
        ),
        (compute_v1.UrlMapsClient, "url_maps", {("global", "web-map")}),
        (
            compute_v1.ForwardingRulesClient,
            "forwarding_rules",
            {("global", "web-fr"), ("regions/us-central1", "int-fr")},
        ),
        (compute_v1.RoutersClient, "routers", {("regions/us-central1", "nat-router")}),
        (
            compute_v1.InstanceGroupsClient,
            "instance_groups",
            {("zones/us-central1-a", "web-ig"), ("regions/us-central1", "web-rig")},
        ),
        (
            compute_v1.InstancesClient,
            "instances",
            {
                ("zones/us-central1-a", "vm-1"),
                ("zones/us-central1-a", "vm-2"),
                ("zones/us-central1-b", "vm-3"),
            },
        ),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_aggregated_list_of_each_collection_spans_global_regions_and_zones(
    twin: Twin, cls: Callable[..., Any], attribute: str, expected: set[tuple[str, str]]
) -> None:
    pairs = client(twin, cls).aggregated_list(request={"project": PROJECT})
    found = {(scope, item.name) for scope, scoped in pairs for item in getattr(scoped, attribute)}
    assert found == expected


def test_get_health_answers_from_the_scenario_for_global_and_regional_services(twin: Twin) -> None:
    group = compute_v1.ResourceGroupReference(
        group=f"{COMPUTE}/zones/us-central1-a/networkEndpointGroups/zonal-neg"
    )
    web = client(twin, compute_v1.BackendServicesClient).get_health(
        project=PROJECT, backend_service="web-bs", resource_group_reference_resource=group
    )
    internal = client(twin, compute_v1.RegionBackendServicesClient).get_health(
        project=PROJECT,
        region="us-central1",
        backend_service="int-bs",
        resource_group_reference_resource=group,
    )
    assert web.kind == "compute#backendServiceGroupHealth"
    assert [(h.health_state, h.ip_address, h.port) for h in web.health_status] == [
        ("UNHEALTHY", "10.0.0.7", 8080)
    ]
    assert [h.health_state for h in internal.health_status] == ["HEALTHY"]
    # getHealth is a POST, yet a read: logged as such.
    assert [c.mutating for c in twin.log.calls() if c.method.endswith(".getHealth")] == [False, False]


def test_instance_groups_and_instances_are_served_as_compute_documents_them(twin: Twin) -> None:
    regional = client(twin, compute_v1.RegionInstanceGroupsClient).list(project=PROJECT, region="us-central1")
    # https://cloud.google.com/compute/docs/reference/rest/v1/regionInstanceGroups/list
    assert next(iter(regional.pages)).kind == "compute#regionInstanceGroupList"
    zonal = client(twin, compute_v1.InstanceGroupsClient)
    assert next(iter(zonal.list(project=PROJECT, zone="us-central1-a").pages)).kind == (
        "compute#instanceGroupList"
    )
    (group,) = zonal.list(project=PROJECT, zone="us-central1-a")
    assert [(p.name, p.port) for p in group.named_ports] == [("http", 8080)]
    # Instances page across zones like every aggregated list.
    instances = client(twin, compute_v1.InstancesClient)
    pages = list(instances.aggregated_list(request={"project": PROJECT, "max_results": 2}).pages)
    assert [page.kind for page in pages] == ["compute#instanceAggregatedList"] * 2
    names = [vm.name for page in pages for scoped in page.items.values() for vm in scoped.instances]
    assert names == ["vm-1", "vm-2", "vm-3"]
    # listInstances is a read sent as POST: not modelled (501), never refused as a mutation.
    with pytest.raises(exceptions.MethodNotImplemented):
        zonal.list_instances(
            project=PROJECT,
            zone="us-central1-a",
            instance_group="web-ig",
            instance_groups_list_instances_request_resource={"instance_state": "ALL"},
        )
    (logged,) = calls(twin, "instanceGroups.listInstances")
    assert (logged.mutating, logged.code) == (False, "UNIMPLEMENTED")


def test_unknown_resource_is_not_found_in_compute_shape(twin: Twin) -> None:
    with pytest.raises(exceptions.NotFound) as caught:
        client(twin, compute_v1.SubnetworksClient).get(
            project=PROJECT, region="us-east1", subnetwork="s-central"
        )
    body = caught.value.response.json()["error"]
    message = f"The resource 'projects/{PROJECT}/regions/us-east1/subnetworks/s-central' was not found"
    assert body == {
        "code": 404,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": "notFound"}],
    }
    with pytest.raises(exceptions.NotFound):
        client(twin, compute_v1.BackendServicesClient).get_health(
            project=PROJECT,
            backend_service="ghost",
            resource_group_reference_resource=compute_v1.ResourceGroupReference(group="g"),
        )


@pytest.mark.parametrize(
    ("call", "rpc"),
    [
        (lambda c: c(compute_v1.NetworksClient).delete(project=PROJECT, network="net-0"), "networks.delete"),
        (
            lambda c: c(compute_v1.FirewallsClient).insert(
                project=PROJECT, firewall_resource=compute_v1.Firewall(name="x")
            ),
            "firewalls.insert",
        ),
        (
            lambda c: c(compute_v1.RoutersClient).patch(
                project=PROJECT,
                region="us-central1",
                router="nat-router",
                router_resource=compute_v1.Router(),
            ),
            "routers.patch",
        ),
        (
            lambda c: c(compute_v1.BackendServicesClient).set_security_policy(
                project=PROJECT,
                backend_service="web-bs",
                security_policy_reference_resource=compute_v1.SecurityPolicyReference(),
            ),
            "backendServices.setSecurityPolicy",
        ),
        (
            lambda c: c(compute_v1.SubnetworksClient).expand_ip_cidr_range(
                project=PROJECT,
                region="us-central1",
                subnetwork="s-central",
                subnetworks_expand_ip_cidr_range_request_resource=compute_v1.SubnetworksExpandIpCidrRangeRequest(),
            ),
            "subnetworks.expandIpCidrRange",
        ),
    ],
    ids=["delete", "insert", "patch", "custom-verb", "custom-verb-regional"],
)
def test_mutating_calls_are_refused_with_403_and_logged(call: Callable[[Any], Any], rpc: str) -> None:
    with serve(compute_scenario()) as twin:
        with pytest.raises(exceptions.Forbidden) as caught:
            call(lambda cls: client(twin, cls))
        (logged,) = twin.log.calls()
    assert (logged.api, logged.method, logged.mutating, logged.code) == (
        "compute",
        rpc,
        True,
        "PERMISSION_DENIED",
    )
    error = caught.value.response.json()["error"]
    assert error["errors"][0]["reason"] == "forbidden"
    assert error["message"].startswith("Required 'compute.")


@pytest.mark.parametrize("code", FAULT_CODE_NAMES)
def test_each_fault_code_in_compute_shape(code: str) -> None:
    with serve(compute_scenario(apiFaults=[fault("compute", code, "firewalls.list")])) as twin:
        firewalls = client(twin, compute_v1.FirewallsClient)
        error = raised_by_fault(
            twin, code, "firewalls.list", lambda: list(firewalls.list(project=PROJECT, retry=None))
        )
        assert firewalls.get(project=PROJECT, firewall="fw-0").name == "fw-0"
    assert len(error.errors) == 1 and error.errors[0]["domain"] in ("global", "usageLimits")


def test_service_disabled_in_compute_shape_carries_legacy_reason_and_error_info() -> None:
    disabled = fault("compute", "PERMISSION_DENIED", reason="SERVICE_DISABLED")
    with (
        serve(compute_scenario(apiFaults=[disabled])) as twin,
        pytest.raises(exceptions.Forbidden) as caught,
    ):
        client(twin, compute_v1.SubnetworksClient).aggregated_list(request={"project": PROJECT})
    error = caught.value
    assert (error.reason, error.domain, error.metadata["service"]) == (
        "SERVICE_DISABLED",
        "googleapis.com",
        "compute.googleapis.com",
    )
    assert error.errors[0]["reason"] == "accessNotConfigured" and error.errors[0]["domain"] == "usageLimits"
    body = error.response.json()["error"]
    assert body["status"] == "PERMISSION_DENIED"
    assert f"Compute Engine API has not been used in project {NUMBER}" in body["message"]


def test_quota_fault_is_429_with_rate_limit_reasons() -> None:
    with (
        serve(compute_scenario(apiFaults=[fault("compute", "RESOURCE_EXHAUSTED")])) as twin,
        pytest.raises(exceptions.TooManyRequests) as caught,
    ):
        client(twin, compute_v1.NetworksClient).get(project=PROJECT, network="net-0")
    assert caught.value.reason == "RATE_LIMIT_EXCEEDED"
    assert caught.value.errors[0]["reason"] == "rateLimitExceeded"


@pytest.mark.parametrize(
    ("filter_", "order_by", "names"),
    [
        ("priority < 1000", "", ["fw-1"]),
        ('direction = "EGRESS"', "", ["deny-all", "fw-2"]),
        ("(direction = INGRESS) (priority >= 1000)", "", ["fw-0", "fw-3"]),
        ("(priority = 900) OR (priority = 65535)", "", ["deny-all", "fw-1"]),
        ("name eq fw-[0-2]", "", ["fw-0", "fw-1", "fw-2"]),
        ("name ne fw-.*", "", ["deny-all"]),
        ("allowed.ports:*", "", ["deny-all", "fw-0", "fw-1", "fw-2", "fw-3"]),
        ("", "creationTimestamp desc", ["fw-2", "deny-all", "fw-0", "fw-3", "fw-1"]),
    ],
)
def test_filter_and_order_by(twin: Twin, filter_: str, order_by: str, names: list[str]) -> None:
    request = compute_v1.ListFirewallsRequest(project=PROJECT, filter=filter_, order_by=order_by)
    assert [f.name for f in client(twin, compute_v1.FirewallsClient).list(request=request)] == names


@pytest.mark.parametrize(
    "request_fields",
    [{"filter": "name : fw"}, {"filter": "(name = a"}, {"order_by": "priority"}, {"max_results": 501}],
)
def test_requests_compute_rejects_are_bad_requests(twin: Twin, request_fields: dict[str, Any]) -> None:
    request = compute_v1.ListFirewallsRequest(project=PROJECT, **request_fields)
    with pytest.raises(exceptions.BadRequest) as caught:
        list(client(twin, compute_v1.FirewallsClient).list(request=request))
    assert caught.value.errors[0]["reason"] == "invalid"


def test_reads_the_twin_does_not_model_are_not_implemented(twin: Twin) -> None:
    # routers.getNatIpInfo: a read (GET) on one router whose runtime data no scenario holds.
    with pytest.raises(exceptions.MethodNotImplemented):
        client(twin, compute_v1.RoutersClient).get_nat_ip_info(
            project=PROJECT, region="us-central1", router="nat-router"
        )
    (logged,) = calls(twin, "routers.getNatIpInfo")
    assert (logged.mutating, logged.code) == (False, "UNIMPLEMENTED")


def test_another_project_is_forbidden(twin: Twin) -> None:
    with pytest.raises(exceptions.Forbidden) as caught:
        list(client(twin, compute_v1.NetworksClient).list(project="other-project"))
    assert caught.value.message.endswith(
        "Required 'compute.networks.list' permission for 'projects/other-project'"
    )
