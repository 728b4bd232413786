"""The triage report, v1 (../shared/spec/triage-report.md): field names and meanings are a contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

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


class ReportEvidence(_V1):
    source: str
    detail: str


class ReportWhy(_V1):
    question: str
    answer: str
    evidence: list[ReportEvidence]


class ReportRemediation(_V1):
    summary: str
    commands: list[str]
    terraform: str | None = None
    docs: str | None = None


class ReportFinding(_V1):
    id: str
    cause: str
    priority: Literal["P0", "P1", "P2", "P3"]
    title: str
    resources: list[str]
    affected_services: list[str]
    why: list[ReportWhy]
    remediation: ReportRemediation
    confidence: float


class ReportPlanStep(_V1):
    rank: int
    priority: Literal["P0", "P1", "P2", "P3"]
    action: str
    findings: list[str]
    blast_radius: int
    commands: list[str] = Field(default_factory=list)
    terraform: list[str] = Field(default_factory=list)


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

    def to_json_dict(self) -> dict[str, Any]:
        """The report as the JSON object of the contract (camelCase, RFC 3339 with Z)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["startedAt"] = self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return data
