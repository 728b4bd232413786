"""Alerting evidence: which signals the project's alert policies watch."""

from __future__ import annotations

from pydantic import Field

from infradiag.evidence.base import EvidenceModel


class AlertPolicyEvidence(EvidenceModel):
    name: str
    display_name: str
    enabled: bool
    metric_types: list[str] = Field(default_factory=list)  # metric.type of every condition's filter
