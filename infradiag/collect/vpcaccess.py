"""Serverless VPC Access v1: connectors, as ConnectorEvidence (load is filled in from Monitoring)."""

from __future__ import annotations

from typing import Any

from infradiag.collect.api import VPCACCESS, Read, Route
from infradiag.collect.calls import Timeout
from infradiag.evidence import ConnectorEvidence


def list_connectors(client: Any, project: str, region: str, timeout: Timeout) -> list[ConnectorEvidence]:
    """Every connector in the region (one paginated list call)."""
    pager = client.list_connectors(
        parent=f"projects/{project}/locations/{region}", timeout=timeout, retry=None
    )
    return [connector_evidence(connector) for connector in pager]


CONNECTORS = Read(
    "connectors",
    VPCACCESS,
    "vpcaccess.projects.locations.connectors.list",
    paginated=True,
    consequence="connector state and capacity could not be checked",
    field="connectors",
    route=Route("GET", "/v1/projects/{project}/locations/{location}/connectors"),
    fetch=lambda s, d: list_connectors(s.clients.vpc_access, s.project, s.region, d),
)
READS = (CONNECTORS,)


def connector_evidence(connector: Any) -> ConnectorEvidence:
    """One vpcaccess_v1.Connector as ConnectorEvidence."""
    parts = connector.name.split("/")
    return ConnectorEvidence(
        name=parts[-1],
        resource=connector.name,
        region=parts[3],
        state=connector.state.name,
        network=connector.network or None,
        ip_cidr_range=connector.ip_cidr_range or None,
        # https://cloud.google.com/vpc/docs/reference/vpcaccess/rest/v1/projects.locations.connectors
        # machineType defaults to e2-micro.
        machine_type=connector.machine_type or "e2-micro",
        min_instances=connector.min_instances or None,
        max_instances=connector.max_instances or None,
        subnet=connector.subnet.name or None,
    )
