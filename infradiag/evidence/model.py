"""Evidence models. Field names are what playbook CEL expressions see (snake_case)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from infradiag.evidence.cloudrun import (
    ConditionEvidence,
    InvokerEvidence,
    RevisionEvidence,
    ServiceLoadEvidence,
    TrafficTargetEvidence,
)
from infradiag.evidence.loadbalancing import BackendServiceEvidence, HealthCheckEvidence
from infradiag.evidence.network import (
    FirewallEvidence,
    NatEvidence,
    NetworkPoliciesEvidence,
    ReachabilityEvidence,
    SubnetEvidence,
)
from infradiag.evidence.observability import AlertPolicyEvidence
from infradiag.evidence.sql import SqlInstanceEvidence

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


ProbeKind = Literal["http", "websocket"]


class ProbeTarget(_Evidence):
    """One health URL of one service, and what a healthy answer looks like."""

    service: str
    url: str
    path: str = "/health"
    expect_status: int = 200
    # "websocket": an upgrade handshake that must reach 101 (the default `expect_status` of that kind).
    kind: ProbeKind = "http"
    # CEL over `body` (the JSON body, or the text if it is not JSON), `headers` (lower-case names), `status`.
    body_check: str | None = None
    # Header name -> regular expression the whole value must match.
    expect_headers: dict[str, str] = Field(default_factory=dict)
    latency_budget_ms: float | None = None
    # websocket: a text message to send once upgraded; some message must come back.
    message: str | None = None
    # How to authenticate: "id_token" (Google-signed, audience = `audience`) or "env:VAR" (a bearer token in
    # that environment variable). Never the token itself.
    auth: str | None = None
    audience: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _websocket_expects_101(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") == "websocket" and data.get("expect_status") is None:
            return {**data, "expect_status": 101}
        return data


class ProbePhases(_Evidence):
    """Milliseconds spent in each phase; None where the phase did not happen."""

    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None
    total: float | None = None
    # websocket: from sending the message to the whole reply received.
    round_trip: float | None = None


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
    # The body parsed as JSON when it is a JSON object (health bodies), for checks and playbooks.
    body_json: dict[str, Any] | None = None
    kind: ProbeKind = "http"
    # Every failed check with the actual value: `status 503, expected 200`, `latency 812 ms, budget 500 ms`.
    failed_checks: list[str] = Field(default_factory=list)
    # https only: the server certificate's notAfter, days left from the probe's clock (negative: expired),
    # whether it verified against the trust store, and why not.
    tls_not_after: datetime | None = None
    tls_expires_in_days: float | None = None
    tls_verified: bool | None = None
    tls_error: str | None = None
    # With --confirm, a failed probe is tried once more: that second observation, and whether the two
    # disagree (a flap) or agree (an outage).
    confirmation: ProbeResult | None = None
    flapping: bool | None = None


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
    conditions: list[ConditionEvidence] = Field(default_factory=list)
    traffic: list[TrafficTargetEvidence] = Field(default_factory=list)
    # Direct VPC egress (template.vpcAccess.networkInterfaces[0]), short names.
    direct_egress_network: str | None = None
    direct_egress_subnet: str | None = None
    cloudsql_instances: list[str] = Field(default_factory=list)  # connection names P:R:I
    load: ServiceLoadEvidence = Field(default_factory=ServiceLoadEvidence)


class JobEvidence(_Evidence):
    """A Cloud Run job as the Admin API v2 describes it (jobs.list), flattened: its tasks' private traffic
    (template.template.vpcAccess), readiness, and how its latest execution ended."""

    name: str  # short name
    resource: str  # projects/P/locations/R/jobs/J
    region: str
    connector: str | None = None  # full connector name, as ServiceEvidence.connector
    egress: str | None = None
    direct_egress_network: str | None = None
    direct_egress_subnet: str | None = None
    cloudsql_instances: list[str] = Field(default_factory=list)  # connection names P:R:I
    ready: bool = True
    ready_message: str | None = None
    latest_execution: str | None = None  # short name of latestCreatedExecution
    # latestCreatedExecution.completionStatus, e.g. EXECUTION_FAILED or EXECUTION_RUNNING; None: it never ran.
    latest_execution_status: str | None = None


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
    subnet: str | None = None  # short subnet name when the connector uses one instead of ip_cidr_range
    throughput_mbps: float | None = None  # sent + received, peak per-minute rate over the window


class MetricSeries(_Evidence):
    """One metric of one resource over the window a playbook reads, a point per `period_s`, oldest first:
    what the report draws as a sparkline next to the figure a finding cites."""

    metric: str  # the metric type, e.g. vpcaccess.googleapis.com/connector/cpu/utilizations
    resource: str  # the full resource name the finding names (projects/P/locations/R/connectors/C)
    aggregation: str  # how each point summarises its period, e.g. "p95 per minute"
    start: datetime
    end: datetime
    period_s: int
    points: list[float]
    # A limit of the resource itself the playbook compares the metric with (a connector's maxInstances), when
    # the threshold is not one of the environment's.
    limit: float | None = None


class Unknown(_Evidence):
    """Evidence that could not be gathered, what would fix that, and what it leaves unchecked."""

    source: str  # run | vpcaccess | compute | sql | monitoring | iam | probe | auth (no usable credentials)
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
    jobs: list[JobEvidence] = Field(default_factory=list)
    connectors: list[ConnectorEvidence] = Field(default_factory=list)
    probes: list[ProbeResult] = Field(default_factory=list)
    unknowns: list[Unknown] = Field(default_factory=list)
    # Who the project was read as (a service account's email, "user credentials (ADC)", "anonymous (twin)");
    # None when no credentials could be had.
    identity: str | None = None
    revisions: list[RevisionEvidence] = Field(default_factory=list)
    invokers: list[InvokerEvidence] = Field(default_factory=list)
    subnets: list[SubnetEvidence] = Field(default_factory=list)
    firewalls: list[FirewallEvidence] = Field(default_factory=list)
    nats: list[NatEvidence] = Field(default_factory=list)
    reachability: list[ReachabilityEvidence] = Field(default_factory=list)
    # Firewall policies in effect, per network whose paths are evaluated (networks.getEffectiveFirewalls);
    # None: not collected (only VPC firewall rules are known); a network missing from a list: unread.
    firewall_policies: list[NetworkPoliciesEvidence] | None = None
    sql_instances: list[SqlInstanceEvidence] = Field(default_factory=list)
    backend_services: list[BackendServiceEvidence] = Field(default_factory=list)
    health_checks: list[HealthCheckEvidence] = Field(default_factory=list)
    alert_policies: list[AlertPolicyEvidence] = Field(default_factory=list)
    # Sources whose evidence was gathered (e.g. "compute", "sql"); lets playbooks tell "none" from "unknown".
    checked: list[str] = Field(default_factory=list)
    # Per-minute series of the metrics findings cite, for the report's sparklines (not read by playbooks).
    metric_series: list[MetricSeries] = Field(default_factory=list)
