"""The triage report, v1 (docs/report-format.md): field names and meanings are a contract."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from infradiag.priority import Priority

# How every view shows a service of `servicesWithoutUrl` among the probes: failing, never probed.
NO_URL = "no_url"
NO_URL_DETAIL = "no ready revision and no URL: Cloud Run serves it nowhere, so it was not probed"

SCHEMA_ID = "infradiag.triage/v1"


class _V1(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ReportPhases(_V1):
    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None
    total: float | None = None


class ReportProbe(_V1):
    service: str
    url: str
    path: str
    ok: bool
    status: int | None = None
    outcome: str
    latency_ms: float
    phases: ReportPhases
    detail: str
    # Added in v1, only for an answer of Google's serving stack (probe/signatures.py): what it means, and
    # which finding explains it here.
    explanation: str | None = None


class ReportSeries(_V1):
    """The metric an evidence line cites, over the window the playbook read (added in v1): a point per
    `periodSeconds`, oldest first, and the threshold it is judged against when there is one."""

    metric: str
    aggregation: str
    start: datetime
    end: datetime
    period_seconds: int
    points: list[float]
    threshold: float | None = None


class ReportEvidence(_V1):
    source: str
    detail: str
    series: ReportSeries | None = None  # added in v1: only on a line citing a metric whose points were read


class ReportWhy(_V1):
    question: str
    answer: str
    evidence: list[ReportEvidence]


class ReportFieldChange(_V1):
    """One field a fix changes: its value now (absent: not set) and the value proposed, and why."""

    field: str
    current: Any = None
    proposed: Any
    why: str


class ReportRequest(_V1):
    """The API request a fix makes, as Google's REST API takes it (added in v1)."""

    api: str
    method: str
    resource: str
    body: dict[str, Any]
    update_mask: str | None = None  # absent for a method that takes none


class ReportVerification(_V1):
    """Whether the fix, applied to a twin of the scenario, clears its finding (added in v1: only with
    `triage --verify-fixes`): `clears`, `does_not_clear`, or `unproven` and why."""

    result: Literal["clears", "does_not_clear", "unproven"]
    detail: str


class ReportRemediation(_V1):
    summary: str
    commands: list[str]
    terraform: str | None = None
    docs: str | None = None
    # Added in v1, each only when there is one: what applying the fix risks, how to undo it, the fields it
    # changes and the request it makes.
    risks: list[str] | None = None
    way_back: str | None = None
    changes: list[ReportFieldChange] | None = None
    request: ReportRequest | None = None
    verification: ReportVerification | None = None  # added in v1: only with `triage --verify-fixes`


class ReportSuppression(_V1):
    """Why a finding is accepted, and until when (added in v1: absent on findings that count)."""

    reason: str
    expires: date
    source: str  # file:line of the suppression


class ReportExpiredSuppression(_V1):
    """A suppression past its `expires` date: it no longer applies, and the report says so."""

    cause: str
    resource: str
    reason: str
    expires: date
    source: str


class ReportFinding(_V1):
    id: str
    cause: str
    priority: Priority
    title: str
    resources: list[str]
    affected_services: list[str]
    why: list[ReportWhy]
    remediation: ReportRemediation
    confidence: float
    # Set when an accepted-findings file covers this finding: it is listed but counts for neither the
    # verdict nor the exit code.
    suppressed: ReportSuppression | None = None


class ReportPlanStep(_V1):
    rank: int
    priority: Priority
    action: str
    findings: list[str]
    blast_radius: int
    commands: list[str] = Field(default_factory=list)
    terraform: list[str] = Field(default_factory=list)
    suppressed: bool | None = None  # True when every finding the step resolves is suppressed
    risks: list[str] | None = None  # added in v1: every risk of the step's fixes, only when there are some
    way_back: list[str] | None = None  # added in v1: how to undo each risky fix, only when there is one


class ReportUnknown(_V1):
    source: str
    reason: str
    fix: str
    consequence: str
    detail: str = ""


class TriageReport(_V1):
    schema_: str = Field(default=SCHEMA_ID, alias="schema")
    environment: str
    project: str
    region: str
    started_at: datetime
    duration_ms: int
    verdict: Literal["healthy", "degraded", "down", "unknown"]
    probes: list[ReportProbe]
    findings: list[ReportFinding]
    plan: list[ReportPlanStep]
    unknowns: list[ReportUnknown]
    expired_suppressions: list[ReportExpiredSuppression] | None = None  # only when there are some
    # Services that exist but have no URL (none of their revisions serves), so nothing could be probed: they
    # count as failing, for the verdict and the exit code (added in v1: only when there are some).
    services_without_url: list[str] | None = None
    # Who the project was read as, e.g. a service account's email (added in v1: absent without credentials).
    identity: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The report as the JSON object of the contract (camelCase, RFC 3339 with Z)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["startedAt"] = self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return data
