"""Serverless VPC Access v1 on the twin, driven only through google-cloud-vpc-access's REST client.

Follows https://cloud.google.com/vpc/docs/reference/vpcaccess/rest/v1/projects.locations.connectors.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import vpcaccess_v1

from tests.twin.rest_twin import LOCATION, calls, fault, rest_kwargs, scenario, serve


def connector(name: str, state: str = "READY") -> dict[str, Any]:
    return {
        "name": f"{LOCATION}/connectors/{name}",
        "network": "staging-vpc",
        "ipCidrRange": "10.8.0.0/28",
        "state": state,
        "minInstances": 2,
        "maxInstances": 3,
        "machineType": "e2-micro",
    }


CONNECTORS = [connector(f"conn-{i}") for i in range(5)] + [connector("broken", state="ERROR")]


def test_list_pages_and_get_serve_the_connectors_as_written() -> None:
    with serve(scenario(vpcaccess={"connectors": CONNECTORS})) as twin:
        client = vpcaccess_v1.VpcAccessServiceClient(**rest_kwargs(twin))
        pager = client.list_connectors(request={"parent": LOCATION, "page_size": 2})
        pages = [[c.name.rsplit("/", 1)[-1] for c in page.connectors] for page in pager.pages]
        broken = client.get_connector(name=f"{LOCATION}/connectors/broken")
    assert pages == [["conn-0", "conn-1"], ["conn-2", "conn-3"], ["conn-4", "broken"]]
    assert broken.state == vpcaccess_v1.Connector.State.ERROR
    assert (broken.min_instances, broken.max_instances, broken.machine_type) == (2, 3, "e2-micro")
    assert [c.code for c in calls(twin, "ListConnectors")] == ["OK"] * 3


def test_unknown_connector_is_not_found() -> None:
    with (
        serve(scenario(vpcaccess={"connectors": CONNECTORS})) as twin,
        pytest.raises(exceptions.NotFound) as caught,
    ):
        vpcaccess_v1.VpcAccessServiceClient(**rest_kwargs(twin)).get_connector(
            name=f"{LOCATION}/connectors/nope"
        )
    assert caught.value.response.json()["error"]["status"] == "NOT_FOUND"


def test_delete_is_refused_and_logged_as_mutating() -> None:
    with serve(scenario(vpcaccess={"connectors": CONNECTORS})) as twin:
        client = vpcaccess_v1.VpcAccessServiceClient(**rest_kwargs(twin))
        with pytest.raises(exceptions.Forbidden):
            client.delete_connector(name=f"{LOCATION}/connectors/conn-0")
        with pytest.raises(exceptions.Forbidden):
            client.create_connector(parent=LOCATION, connector_id="new", connector=vpcaccess_v1.Connector())
    assert [(c.method, c.mutating, c.code) for c in twin.log.calls()] == [
        ("DeleteConnector", True, "PERMISSION_DENIED"),
        ("CreateConnector", True, "PERMISSION_DENIED"),
    ]


def test_disabled_api_answers_every_method_with_service_disabled() -> None:
    disabled = fault("vpcaccess", "PERMISSION_DENIED", reason="SERVICE_DISABLED")
    with serve(scenario(vpcaccess={"connectors": CONNECTORS}, apiFaults=[disabled])) as twin:
        client = vpcaccess_v1.VpcAccessServiceClient(**rest_kwargs(twin))
        for call in (
            lambda: list(client.list_connectors(parent=LOCATION)),
            lambda: client.get_connector(name=f"{LOCATION}/connectors/conn-0"),
        ):
            with pytest.raises(exceptions.Forbidden) as caught:
                call()
            assert caught.value.reason == "SERVICE_DISABLED"
            assert caught.value.metadata["service"] == "vpcaccess.googleapis.com"
