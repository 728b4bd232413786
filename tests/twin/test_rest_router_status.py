"""routers.getRouterStatus on the twin, driven through google-cloud-compute's RoutersClient over REST.

https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus: a GET on one router
answering a RouterStatusResponse (`kind` compute#routerStatusResponse, `result` a RouterStatus whose
natStatus[] reports each NAT gateway's minExtraNatIpsNeeded and numVmEndpointsWithNatMappings).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.api_core import exceptions
from google.cloud import compute_v1

from infradiag.errors import UsageError
from infradiag.twin.scenario import load_scenario
from infradiag.twin.server import Twin
from tests.twin.rest_twin import COMPUTE, PROJECT, calls, rest_kwargs, scenario, serve

CENTRAL = f"{COMPUTE}/regions/us-central1"
NETWORK = f"{COMPUTE}/global/networks/staging-vpc"
NAT_STATUS = {
    "network": NETWORK,
    "natStatus": [
        {
            "name": "staging-nat",
            "userAllocatedNatIpResources": [f"{CENTRAL}/addresses/nat-ip-1"],
            "userAllocatedNatIps": ["35.204.78.175"],
            "minExtraNatIpsNeeded": 2,
            "numVmEndpointsWithNatMappings": 2,
        }
    ],
}


def _router(name: str, region: str = CENTRAL) -> dict[str, Any]:
    return {"name": name, "region": region, "network": NETWORK}


def _compute() -> dict[str, Any]:
    return {
        "routers": [_router("nat-router"), _router("bgp-router"), _router("eu-router", "europe-west4")],
        "routerStatus": [{"router": "nat-router", "region": "us-central1", "result": NAT_STATUS}],
    }


@pytest.fixture(scope="module")
def twin() -> Iterator[Twin]:
    with serve(scenario(compute=_compute())) as running:
        yield running


@pytest.fixture(scope="module")
def routers(twin: Twin) -> compute_v1.RoutersClient:
    return compute_v1.RoutersClient(**rest_kwargs(twin))


def test_status_is_the_scenarios_result_under_its_response_kind(
    twin: Twin, routers: compute_v1.RoutersClient
) -> None:
    response = routers.get_router_status(project=PROJECT, region="us-central1", router="nat-router")
    assert response.kind == "compute#routerStatusResponse"
    (nat,) = response.result.nat_status
    assert (nat.name, nat.min_extra_nat_ips_needed, nat.num_vm_endpoints_with_nat_mappings) == (
        "staging-nat",
        2,
        2,
    )
    assert list(nat.user_allocated_nat_ips) == ["35.204.78.175"]
    assert response.result.network == NETWORK
    (logged,) = calls(twin, "routers.getRouterStatus")[:1]
    assert logged.method == "routers.getRouterStatus"


def test_router_without_a_status_reports_only_its_network(routers: compute_v1.RoutersClient) -> None:
    response = routers.get_router_status(project=PROJECT, region="us-central1", router="bgp-router")
    assert response.kind == "compute#routerStatusResponse"
    assert response.result.network == NETWORK
    assert list(response.result.nat_status) == []


def test_status_is_per_region(routers: compute_v1.RoutersClient) -> None:
    # eu-router exists only in europe-west4; nat-router's status belongs to us-central1.
    response = routers.get_router_status(project=PROJECT, region="europe-west4", router="eu-router")
    assert list(response.result.nat_status) == []
    with pytest.raises(exceptions.NotFound) as caught:
        routers.get_router_status(project=PROJECT, region="europe-west4", router="nat-router")
    assert f"projects/{PROJECT}/regions/europe-west4/routers/nat-router" in str(caught.value)


def test_unknown_router_is_not_found(routers: compute_v1.RoutersClient) -> None:
    with pytest.raises(exceptions.NotFound):
        routers.get_router_status(project=PROJECT, region="us-central1", router="no-such-router")


def _write(tmp_path: Path, compute: dict[str, Any]) -> Path:
    path = tmp_path / "s.yaml"
    document = {
        "apiVersion": "infradiag/twin-v1",
        "name": "router-status",
        "project": PROJECT,
        "region": "us-central1",
        "now": "2026-09-15T23:06:52Z",
        "compute": compute,
    }
    path.write_text(yaml.safe_dump(document))
    return path


def test_scenario_loads_with_a_router_status(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, _compute()))
    assert loaded.compute.routerStatus[0].result["natStatus"][0]["minExtraNatIpsNeeded"] == 2


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        # Checked against google-cloud-compute's RouterStatusNatStatus: an integer field.
        (
            {
                "router": "nat-router",
                "region": "us-central1",
                "result": {"natStatus": [{"minExtraNatIpsNeeded": "two"}]},
            },
            "expected an integer",
        ),
        ({"router": "ghost", "region": "us-central1", "result": {}}, "no router 'ghost'"),
        ({"router": "nat-router", "region": "europe-west4", "result": {}}, "no router 'nat-router'"),
        ({"router": "nat-router", "region": "us-central1", "reslt": {}}, "result: Field required"),
    ],
)
def test_scenario_rejects_a_bad_router_status(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    compute = _compute()
    compute["routerStatus"] = [entry]
    with pytest.raises(UsageError) as caught:
        load_scenario(_write(tmp_path, compute))
    assert message in str(caught.value)


def test_scenario_rejects_two_statuses_for_one_router(tmp_path: Path) -> None:
    compute = _compute()
    compute["routerStatus"] = compute["routerStatus"] * 2
    with pytest.raises(UsageError) as caught:
        load_scenario(_write(tmp_path, compute))
    assert "has a status already" in str(caught.value)
