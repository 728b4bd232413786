"""Assemble the v1 report from evidence, findings and plan."""

from __future__ import annotations

from datetime import datetime

from infradiag.diagnose.findings import Finding, Fix
from infradiag.evidence import Evidence, ProbeResult, Unknown
from infradiag.fixes import update_mask
from infradiag.plan.ranking import PlanStep, ranked
from infradiag.report.model import (
    ReportEvidence,
    ReportFieldChange,
    ReportFinding,
    ReportPhases,
    ReportPlanStep,
    ReportProbe,
    ReportRemediation,
    ReportRequest,
    ReportUnknown,
    ReportVerification,
    ReportWhy,
    TriageReport,
)


def _probe(p: ProbeResult) -> ReportProbe:
    return ReportProbe(
        service=p.service,
        url=p.url,
        path=p.path,
        ok=p.ok,
        status=p.status,
        outcome=p.outcome,
        latency_ms=round(p.latency_ms, 1),
        phases=ReportPhases(
            **{k: None if v is None else round(v, 1) for k, v in p.phases.model_dump().items()}
        ),
        detail=p.detail,
    )


def _finding(f: Finding) -> ReportFinding:
    return ReportFinding(
        id=f.id,
        cause=f.cause,
        priority=f.priority,
        title=f.title,
        resources=[f.resource],
        affected_services=f.affected_services,
        why=[
            ReportWhy(
                question=w.question,
                answer=w.answer,
                evidence=[ReportEvidence(source=e.source, detail=e.detail) for e in w.evidence],
            )
            for w in f.why
        ],
        remediation=_remediation(f.remediation),
        confidence=f.confidence,
    )


def _remediation(fix: Fix) -> ReportRemediation:
    change = fix.change
    return ReportRemediation(
        summary=fix.summary,
        commands=fix.commands,
        terraform=fix.terraform,
        docs=fix.docs,
        risks=[str(r) for r in fix.risks] or None,
        way_back=fix.way_back,
        changes=[
            ReportFieldChange(field=c.field, current=c.current, proposed=c.proposed, why=c.why)
            for c in change.changes
        ]
        if change
        else None,
        request=ReportRequest(
            api=change.api,
            method=change.method,
            resource=change.resource,
            body=change.body(),
            update_mask=update_mask(change),
        )
        if change
        else None,
    )


def _step(s: PlanStep) -> ReportPlanStep:
    return ReportPlanStep(
        rank=s.rank,
        priority=s.priority,
        action=s.action,
        findings=s.findings,
        blast_radius=s.blast_radius,
        commands=s.commands,
        terraform=s.terraform,
        risks=[str(r) for r in s.risks] or None,
        way_back=s.way_back or None,
    )


def _unknown(u: Unknown) -> ReportUnknown:
    return ReportUnknown(
        source=u.source, reason=u.reason, fix=u.fix, consequence=u.consequence, detail=u.detail
    )


def build_report(
    environment: str,
    evidence: Evidence,
    findings: list[Finding],
    plan: list[PlanStep],
    verdict: str,
    started_at: datetime,
    duration_ms: int,
    services_without_url: list[str] | None = None,
) -> TriageReport:
    """The report of one triage; findings most urgent first; `servicesWithoutUrl` only when some are."""
    return TriageReport(
        environment=environment,
        project=evidence.project,
        region=evidence.region,
        started_at=started_at,
        duration_ms=duration_ms,
        verdict=verdict,
        probes=[_probe(p) for p in evidence.probes],
        findings=[_finding(f) for f in ranked(findings)],
        plan=[_step(s) for s in plan],
        unknowns=[_unknown(u) for u in evidence.unknowns],
        services_without_url=services_without_url or None,
        identity=evidence.identity,
    )


def with_verifications(report: TriageReport, verdicts: dict[str, ReportVerification]) -> TriageReport:
    """The report with each finding's `remediation.verification` set from `verdicts` (by finding id); a
    finding without a verdict keeps none. The given report is not modified."""
    findings = [
        f.model_copy(
            update={"remediation": f.remediation.model_copy(update={"verification": verdicts[f.id]})}
        )
        if f.id in verdicts
        else f
        for f in report.findings
    ]
    return report.model_copy(update={"findings": findings})
