"""Serverless VPC Access API v1 over REST: connectors.

https://cloud.google.com/vpc/docs/reference/vpcaccess/rest/v1/projects.locations.connectors
"""

from __future__ import annotations

from typing import Any

from infradiag.twin.rest.core import Call, Collection, Route, paginate, route
from infradiag.twin.scenario import Scenario

API = "vpcaccess"
LOCATION = "/v1/projects/{project}/locations/{location}"
# The paths this API answers, as (api, path template) pairs the twin routes by (rest/__init__.py).
PATH_PREFIXES = ((API, f"{LOCATION}/connectors"),)


class VpcAccessApi:
    """Routes of Serverless VPC Access v1."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.connectors = Collection("connectors", "connectors", tuple(scenario.vpcaccess.connectors))

    def _canonical(self, name: str) -> str:
        parts = name.split("/")
        if len(parts) > 1 and parts[1] == self.scenario.projectNumber:
            parts[1] = self.scenario.project
        return "/".join(parts)

    def list_connectors(self, call: Call) -> dict[str, Any]:
        parent = self._canonical(call.relative_name().rsplit("/connectors", 1)[0])
        return paginate(self.connectors.list(parent), "connectors", parent, call.query)

    def get_connector(self, call: Call) -> dict[str, Any]:
        return self.connectors.get(self._canonical(call.relative_name()))

    def routes(self) -> list[Route]:
        connectors = f"{LOCATION}/connectors"
        con = f"{connectors}/{{connector}}"
        return [
            route(
                API, "ListConnectors", "GET", connectors, self.list_connectors, "vpcaccess.connectors.list"
            ),
            route(API, "GetConnector", "GET", con, self.get_connector, "vpcaccess.connectors.get"),
            route(API, "CreateConnector", "POST", connectors, None, "vpcaccess.connectors.create"),
            route(API, "PatchConnector", "PATCH", con, None, "vpcaccess.connectors.update"),
            route(API, "DeleteConnector", "DELETE", con, None, "vpcaccess.connectors.delete"),
        ]
