"""Cloud Run evidence beyond the service itself: revisions, conditions, traffic, load."""

from __future__ import annotations

from pydantic import Field

from infradiag.evidence.base import EvidenceModel


class ConditionEvidence(EvidenceModel):
    """A Cloud Run v2 Condition: type, state name, and why."""

    type: str
    state: str  # CONDITION_SUCCEEDED | CONDITION_FAILED | CONDITION_RECONCILING | CONDITION_PENDING
    message: str | None = None
    reason: str | None = None  # reason, revisionReason or executionReason, whichever is set


class TrafficTargetEvidence(EvidenceModel):
    revision: str | None = None  # short revision name; None when the target is LATEST
    latest: bool = False
    percent: int = 0


class RevisionEvidence(EvidenceModel):
    """A Cloud Run v2 Revision (from one ListRevisions over every service)."""

    name: str  # short, e.g. backend-00042-abc
    resource: str
    service: str  # short service name
    ready: bool = True
    message: str | None = None
    reason: str | None = None


class ServiceLoadEvidence(EvidenceModel):
    """A service's load over the judged window; None where the metric had no data."""

    instances_active_max: float | None = None  # container/instance_count state=active, max
    memory_p99: float | None = None  # container/memory/utilizations p99 (fraction)
    latency_p99_ms: float | None = None  # request_latencies p99
    startup_p95_ms: float | None = None  # container/startup_latencies p95
    requests_5xx: float | None = None  # request_count with response_code_class 5xx, summed
    requests_total: float | None = None


class InvokerEvidence(EvidenceModel):
    """Who may invoke a service (members bound to roles/run.invoker), read only when a probe got 401/403."""

    service: str
    members: list[str] = Field(default_factory=list)
