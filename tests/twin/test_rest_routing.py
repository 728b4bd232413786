"""The twin routes a REST request by the API whose declared path prefix covers it; a path that no API of the
twin declares is NOT_FOUND in Google's AIP-193 error shape (https://cloud.google.com/apis/design/errors),
not taken for whichever API shares its version segment."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from infradiag.twin.faults import FaultInjector
from infradiag.twin.requestlog import RequestLog
from infradiag.twin.rest import ENDPOINT_APIS, REST_APIS, RestApis, api_of
from tests.twin.rest_twin import LOCATION, PROJECT, scenario, serve

# Cloud Functions v1 and Secret Manager v1 paths: /v1/ like VPC Access and Cloud SQL v1, served by neither.
UNKNOWN_V1 = [f"/v1/{LOCATION}/functions", f"/v1/projects/{PROJECT}/secrets/db-password"]


@pytest.mark.parametrize("path", UNKNOWN_V1)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_v1_path_is_not_found_in_googles_shape(method: str, path: str) -> None:
    with serve(scenario()) as twin:
        assert twin.addresses is not None
        answer = httpx.request(method, twin.addresses.rest + path)
        logged = twin.log.calls()
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert (error["code"], error["status"]) == (404, "NOT_FOUND")
    assert "errors" not in error  # AIP-193, not the legacy shape of Compute and Cloud SQL
    assert [(c.api, c.target, c.mutating, c.code) for c in logged] == [
        ("unknown", path, method == "POST", "NOT_FOUND")
    ]


def test_an_unserved_method_of_a_known_api_stays_that_apis() -> None:
    # Inside VPC Access's connectors: reads the twin does not serve are NOT_FOUND and writes are refused,
    # both logged as vpcaccess calls.
    path = f"/v1/{LOCATION}/connectors/conn/extra"
    with serve(scenario()) as twin:
        assert twin.addresses is not None
        read = httpx.get(twin.addresses.rest + path)
        write = httpx.post(twin.addresses.rest + path)
        logged = [(c.api, c.code) for c in twin.log.calls()]
    assert (read.status_code, write.status_code) == (404, 403)
    assert logged == [("vpcaccess", "NOT_FOUND"), ("vpcaccess", "PERMISSION_DENIED")]


@pytest.mark.parametrize(
    ("path", "api"),
    [
        (f"/v2/{LOCATION}/services", "run"),
        (f"/v2/{LOCATION}/services/web/revisions/web-001", "run"),
        (f"/v2/{LOCATION}/services/web:getIamPolicy", "iam"),
        (f"/v2/{LOCATION}/jobs", "run"),
        (f"/v2/{LOCATION}/workerPools", "unknown"),
        (f"/v1/{LOCATION}/connectors/conn", "vpcaccess"),
        (f"/v1/{LOCATION}/connectorsx", "unknown"),
        (f"/v1/projects/{PROJECT}/instances/db", "sql"),
        (f"/sql/v1beta4/projects/{PROJECT}/instances", "sql"),
        (f"/compute/v1/projects/{PROJECT}/global/networks", "compute"),
        ("/compute/v2/projects/x", "unknown"),
        ("/", "unknown"),
    ],
)
def test_the_api_of_a_path(path: str, api: str) -> None:
    assert api_of(path) == api


def _sample_path(pattern: re.Pattern[str]) -> str:
    """A path the route pattern matches: every `{x}` segment filled with `x`."""
    return re.sub(r"\(\?P<\w+>\[\^/:\]\+\)", "x", pattern.pattern)


def test_every_route_lies_in_its_apis_declared_paths() -> None:
    apis = RestApis(scenario(), {}, RequestLog(), FaultInjector([]))
    for route in apis.routes:
        path = _sample_path(route.pattern)
        assert route.pattern.fullmatch(path), path
        assert api_of(path) == route.api, path
        found, _ = apis.route(route.http_method, path)
        assert found is not None and found.api == route.api, path


def test_the_api_names_are_the_declared_ones() -> None:
    assert REST_APIS == ("run", "iam", "vpcaccess", "compute", "sql")
    assert ENDPOINT_APIS == ("run", "vpcaccess", "compute", "sql")


def test_a_declared_prefix_ends_at_a_segment_boundary() -> None:
    apis = RestApis(scenario(), {}, RequestLog(), FaultInjector([]))
    status, body = asyncio.run(apis.answer("GET", f"/v1/{LOCATION}/connectorsx", {}))
    assert (status, body["error"]["status"]) == (404, "NOT_FOUND")
    assert [c.api for c in apis.log.calls()] == ["unknown"]
