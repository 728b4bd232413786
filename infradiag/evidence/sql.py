"""Cloud SQL evidence: instance state, connection limits and load."""

from __future__ import annotations

from infradiag.evidence.base import EvidenceModel


class SqlInstanceEvidence(EvidenceModel):
    name: str
    resource: str  # projects/P/instances/I
    connection_name: str  # P:REGION:I
    region: str
    state: str  # RUNNABLE | SUSPENDED | PENDING_CREATE | MAINTENANCE | FAILED | ...
    engine: str  # POSTGRES | MYSQL | SQLSERVER
    database_version: str
    tier: str
    memory_gb: float | None = None
    max_connections: int | None = None
    max_connections_source: str | None = None  # "flag" or "tier default"
    private_ip: str | None = None
    private_network: str | None = None  # short network name
    port: int = 5432
    # Over the judged window; None where the metric had no data.
    connections_max: float | None = None  # num_backends summed over databases, or network/connections
    cpu_max: float | None = None  # database/cpu/utilization
    up_min: float | None = None  # database/up
