"""Small reports built in memory, for the views' unit tests (end-to-end tests triage a twin instead)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from infradiag.diagnose.findings import Finding, Fix, Why
from infradiag.priority import Priority
from infradiag.report.model import (
    ReportFinding,
    ReportPhases,
    ReportPlanStep,
    ReportProbe,
    ReportUnknown,
    TriageReport,
)


def failing_probe(service: str, detail: str, path: str = "/health") -> ReportProbe:
    """A probe of `service` that got a 500, with `detail` as its text."""
    return ReportProbe(
        service=service,
        url="http://127.0.0.1:1/health",
        path=path,
        ok=False,
        status=500,
        outcome="http_5xx",
        latency_ms=3.0,
        phases=ReportPhases(),
        detail=detail,
    )


def degraded_report(
    probes: Sequence[ReportProbe] = (),
    findings: Sequence[ReportFinding] = (),
    plan: Sequence[ReportPlanStep] = (),
    unknowns: Sequence[ReportUnknown] = (),
) -> TriageReport:
    """A `degraded` report of environment `e` (project `p`, region `r`) holding what it is given."""
    return TriageReport(
        environment="e",
        project="p",
        region="r",
        started_at=datetime(2026, 9, 15, tzinfo=UTC),
        duration_ms=1,
        verdict="degraded",
        probes=list(probes),
        findings=list(findings),
        plan=list(plan),
        unknowns=list(unknowns),
    )


def diagnosed(
    cause: str, priority: Priority, title: str, resource: str, services: Sequence[str], why: Why, fix: Fix
) -> Finding:
    """A finding as the diagnosis hands it to build_report: one resource, one why, its fix."""
    return Finding(
        cause=cause,
        priority=priority,
        title=title,
        resource=resource,
        affected_services=list(services),
        why=[why],
        remediation=fix,
    )
