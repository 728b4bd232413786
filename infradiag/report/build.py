"""Assemble the v1 report from evidence, findings and plan."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from infradiag.diagnose.findings import Citation, Finding, Fix
from infradiag.evidence import Evidence, MetricSeries, ProbeResult, Unknown
from infradiag.evidence.metrics import SERIES_THRESHOLDS
from infradiag.fixes import update_mask
from infradiag.plan.ranking import PlanStep, ranked
from infradiag.probe.signatures import in_detail
from infradiag.report.model import (
    ReportEvidence,
    ReportFieldChange,
    ReportFinding,
    ReportPhases,
    ReportPlanStep,
    ReportProbe,
    ReportRemediation,
    ReportRequest,
    ReportSeries,
    ReportUnknown,
    ReportVerification,
    ReportWhy,
    TriageReport,
)


def _explanation(p: ProbeResult, findings: list[Finding]) -> str | None:
    """What an answer of Google's serving stack means, and the finding that explains it for this service
    (the most urgent one covering it): the symptom tied to its cause."""
    signature = in_detail(p.detail)
    if signature is None:
        return None
    text = f"{p.status or ''} from {signature.source}: {signature.explanation}".lstrip()
    cause = next((f for f in findings if p.service in f.affected_services), None)
    if cause is not None:
        text += f"; here because {cause.title}"
    return text


def _probe(p: ProbeResult, findings: list[Finding]) -> ReportProbe:
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
        explanation=_explanation(p, findings) if not p.ok else None,
    )


def _series(
    citation: Citation, resource: str, series: list[MetricSeries], thresholds: Mapping[str, Any]
) -> ReportSeries | None:
    """The points of the metric a monitoring citation names on the finding's resource, if they were read."""
    if citation.source != "monitoring":
        return None
    found = next((s for s in series if s.resource == resource and s.metric in citation.detail), None)
    if found is None:
        return None
    key = SERIES_THRESHOLDS.get(found.metric)
    share = thresholds.get(key) if key else None
    threshold: Any = share if found.limit is None else found.limit * (share if share is not None else 1.0)
    return ReportSeries(
        metric=found.metric,
        aggregation=found.aggregation,
        start=found.start,
        end=found.end,
        period_seconds=found.period_s,
        points=[round(v, 4) for v in found.points],
        threshold=round(float(threshold), 4) if isinstance(threshold, int | float) else None,
    )


def _finding(
    f: Finding, series: list[MetricSeries] | None = None, thresholds: Mapping[str, Any] | None = None
) -> ReportFinding:
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
                evidence=[
                    ReportEvidence(
                        source=e.source,
                        detail=e.detail,
                        series=_series(e, f.resource, series or [], thresholds or {}),
                    )
                    for e in w.evidence
                ],
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
    thresholds: Mapping[str, Any] | None = None,
) -> TriageReport:
    """The report of one triage; findings most urgent first; `servicesWithoutUrl` only when some are. A
    monitoring citation carries the series of its metric when the evidence holds it, with its threshold
    from `thresholds` (the environment's); a Google-stack probe answer its explanation."""
    order = ranked(findings)
    causes = [f for f in order if not f.symptom]  # once, not per probe: a fleet has hundreds of both
    return TriageReport(
        environment=environment,
        project=evidence.project,
        region=evidence.region,
        started_at=started_at,
        duration_ms=duration_ms,
        verdict=verdict,
        probes=[_probe(p, causes) for p in evidence.probes],
        findings=[_finding(f, evidence.metric_series, thresholds) for f in order],
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
