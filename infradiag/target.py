"""The resolved thing a triage looks at: one project and region, reached at GCP or at a twin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from infradiag.config.model import AlertingConfig, ProbeSettings, Thresholds
from infradiag.identity import Authenticator


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
    thresholds: Thresholds = field(default_factory=Thresholds)
    alerting: AlertingConfig = field(default_factory=AlertingConfig)  # where proposed alerts notify
    probe: ProbeSettings = field(default_factory=ProbeSettings)
    # PEM of a CA the probes trust besides the system's: the CA of a twin this run started, which plays a
    # public CA for its endpoints. None: the system's trust store only.
    extra_ca_pem: str | None = None
    # The run's credentials (resolved once, shared by every client); None: Application Default Credentials
    # at Google, anonymous at a twin (one that does not require credentials).
    auth: Authenticator = None  # type: ignore[assignment]  # always set by __post_init__

    def __post_init__(self) -> None:
        if self.auth is None:
            object.__setattr__(self, "auth", Authenticator(anonymous=self.endpoints is not None))
