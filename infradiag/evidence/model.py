"""Evidence models. Field names are what playbook CEL expressions see (snake_case)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal[
    "ok",
    "http_4xx",
    "http_5xx",
    "timeout",
    "connect_refused",
    "connect_reset",
    "dns_error",
    "tls_error",
    "assertion_failed",
]


class _Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)


class ProbeTarget(_Evidence):
    """One health URL of one service, and what a healthy answer looks like."""

    service: str
    url: str
    path: str = "/health"
    expect_status: int = 200


class ProbePhases(_Evidence):
    """Milliseconds spent in each phase; None where the phase did not happen."""

    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None
    total: float | None = None


class ProbeResult(_Evidence):
    """What one probe saw: the outcome class, the status, timings, and a short redacted excerpt."""

    service: str
    path: str
    url: str
    ok: bool
    outcome: Outcome
    status: int | None = None
    latency_ms: float
    phases: ProbePhases = Field(default_factory=ProbePhases)
    detail: str = ""
    body_excerpt: str | None = None
    # "gfe" when the Google Front End answered (its error pages), else None.
    served_by: str | None = None


class ServiceEvidence(_Evidence):
    """A Cloud Run service as the Admin API v2 describes it, flattened for the diagnosis."""

    name: str  # short name, e.g. "backend"
    resource: str  # projects/P/locations/R/services/S
    region: str
    uri: str | None = None
    ingress: str | None = None
    connector: str | None = None  # full connector name from template.vpcAccess.connector
    egress: str | None = None
    min_instances: int = 0
    max_instances: int | None = None
    timeout_seconds: float = 300.0
    health_paths: list[str] = Field(default_factory=list)
    ready: bool = True
    ready_message: str | None = None
    latest_ready_revision: str | None = None
    latest_created_revision: str | None = None


class ConnectorEvidence(_Evidence):
    """A Serverless VPC Access connector plus its load over the recent window."""

    name: str  # short name
    resource: str  # projects/P/locations/R/connectors/C
    region: str
    state: str
    network: str | None = None
    ip_cidr_range: str | None = None
    machine_type: str = "e2-micro"
    min_instances: int | None = None
    max_instances: int | None = None
    # Over the judged window; None when the metric could not be read or had no points.
    cpu_p95: float | None = None
    instances_max: int | None = None


class Unknown(_Evidence):
    """Evidence that could not be gathered, what would fix that, and what it leaves unchecked."""

    source: str  # run | vpcaccess | compute | sql | monitoring | iam | probe
    reason: str  # google.rpc code name, e.g. PERMISSION_DENIED
    fix: str
    consequence: str
    detail: str = ""


class Evidence(_Evidence):
    """Everything one triage knows about an environment at `now`."""

    project: str
    region: str
    now: datetime
    services: list[ServiceEvidence] = Field(default_factory=list)
    connectors: list[ConnectorEvidence] = Field(default_factory=list)
    probes: list[ProbeResult] = Field(default_factory=list)
    unknowns: list[Unknown] = Field(default_factory=list)
