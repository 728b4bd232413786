"""The network the firewall tests share: one connector on network `vpc` in us-central1."""

from __future__ import annotations

from infradiag.evidence import ConnectorEvidence

# Its instances: 10.8.0.0/28, tags vpc-connector and vpc-connector-us-central1-conn.
CONNECTOR = ConnectorEvidence(
    name="conn",
    resource="projects/p/locations/us-central1/connectors/conn",
    region="us-central1",
    state="READY",
    network="vpc",
    ip_cidr_range="10.8.0.0/28",
)
