"""Load balancer evidence: backend services, their backends' health, health checks."""

from __future__ import annotations

from pydantic import Field

from infradiag.evidence.base import EvidenceModel


class BackendEvidence(EvidenceModel):
    group: str  # selfLink of the NEG or instance group
    kind: str  # serverless_neg | neg | instance_group
    cloud_run_service: str | None = None  # for serverless NEGs: the Cloud Run service short name
    healthy: int | None = None  # from getHealth; None when not asked (serverless NEGs have no health)
    unhealthy: int | None = None


class BackendServiceEvidence(EvidenceModel):
    name: str
    resource: str  # selfLink
    region: str | None = None  # None: global
    protocol: str | None = None
    timeout_sec: int = 30  # Compute default when unset
    health_checks: list[str] = Field(default_factory=list)  # short names
    outlier_detection: bool = False
    backends: list[BackendEvidence] = Field(default_factory=list)


class HealthCheckEvidence(EvidenceModel):
    name: str
    resource: str
    type: str  # HTTP | HTTPS | HTTP2 | TCP | ...
    port: int | None = None
    request_path: str | None = None
