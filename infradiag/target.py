"""The resolved thing a triage looks at: one project and region, reached at GCP or at a twin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from infradiag.config.model import Thresholds
from infradiag.config.probes import ServiceProbes


@dataclass(frozen=True)
class ApiEndpoints:
    """Where the APIs answer when not at Google: a twin's REST base URL and Monitoring gRPC host:port."""

    rest: str
    grpc: str


@dataclass(frozen=True)
class Target:
    """Everything the pipeline needs to know about what it triages."""

    environment: str
    project: str
    region: str
    endpoints: ApiEndpoints | None = None  # None: Google's APIs with Application Default Credentials
    now: datetime | None = None  # None: the wall clock; a twin plays its scenario's `now`
    services: list[str] | None = None  # only these services, if set
    health_path: str = "/health"
    probe_timeout_s: float = 10.0
    probe_concurrency: int = 256
    thresholds: Thresholds = field(default_factory=Thresholds)
    probe_max_body_bytes: int = 65536
    probe_max_redirects: int = 3
    probe_confirm: bool = False
    probe_auth: str | None = None  # "id_token" | "env:VAR" for services without their own `auth`
    probes: Mapping[str, ServiceProbes] = field(default_factory=dict)  # per-service probe settings
