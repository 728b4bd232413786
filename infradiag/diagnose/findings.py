"""What the diagnosis concludes: root-cause findings, each with its chain of whys."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field

from infradiag.fixes import Change, Risk
from infradiag.priority import PRIORITY_ORDER as PRIORITY_ORDER  # re-exported for older importers
from infradiag.priority import Priority


class Citation(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    detail: str


class Why(BaseModel):
    question: str
    answer: str
    evidence: list[Citation] = Field(default_factory=list)


class Fix(BaseModel):
    """What to do about a finding. With a `change`, `commands` and `terraform` are rendered from it."""

    summary: str
    commands: list[str] = Field(default_factory=list)
    terraform: str | None = None
    docs: str | None = None
    risks: list[Risk] = Field(default_factory=list)
    way_back: str | None = None  # how to undo it, for a fix with risks
    change: Change | None = None  # the API request the fix makes


class Finding(BaseModel):
    """One root cause on one resource, with every service it affects."""

    cause: str
    priority: Priority
    title: str
    resource: str
    affected_services: list[str] = Field(default_factory=list)
    why: list[Why] = Field(default_factory=list)
    remediation: Fix
    confidence: float = 0.8
    playbook: str = ""
    # Read from a symptom other causes produce too (symptoms.py): cited under a more urgent root cause
    # that covers its services instead of listed. The diagnosis's own flag, not part of the report.
    symptom: bool = False

    @property
    def id(self) -> str:
        """Stable across runs: the same cause on the same resource has the same id."""
        return hashlib.sha256(f"{self.cause}|{self.resource}".encode()).hexdigest()[:12]


def merge_findings(findings: list[Finding]) -> list[Finding]:
    """One finding per (cause, resource): affected services united, the highest priority kept."""
    merged: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        key = (finding.cause, finding.resource)
        if key not in merged:
            merged[key] = finding
            continue
        kept = merged[key]
        if PRIORITY_ORDER[finding.priority] < PRIORITY_ORDER[kept.priority]:
            kept, finding = finding, kept
        services = kept.affected_services + [
            s for s in finding.affected_services if s not in kept.affected_services
        ]
        merged[key] = kept.model_copy(update={"affected_services": services})
    return list(merged.values())
