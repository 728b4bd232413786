"""Apply suppressions to a report: matching findings are marked, and stop counting for the verdict."""

from __future__ import annotations

from datetime import date

from infradiag.priority import URGENT
from infradiag.report.model import (
    ReportExpiredSuppression,
    ReportFinding,
    ReportPlanStep,
    ReportSuppression,
    TriageReport,
)
from infradiag.suppress.model import Suppression


def _mark(finding: ReportFinding, active: list[Suppression]) -> ReportFinding:
    match = next((s for s in active if s.covers(finding.cause, finding.resources)), None)
    if match is None:
        return finding
    suppression = ReportSuppression(reason=match.reason, expires=match.expires, source=match.source)
    return finding.model_copy(update={"suppressed": suppression})


def _step(step: ReportPlanStep, suppressed_ids: set[str]) -> ReportPlanStep:
    if step.findings and all(f in suppressed_ids for f in step.findings):
        return step.model_copy(update={"suppressed": True})
    return step


def _verdict(report: TriageReport, findings: list[ReportFinding]) -> str:
    # Only a verdict that a finding alone made `degraded` can change: suppressing a finding never makes a
    # failing probe pass (docs/report-format.md: healthy = every probe ok and no P0/P1 finding).
    # Nor does it make missing evidence appear: unknowns keep a report degraded.
    failing = not all(p.ok for p in report.probes) or bool(report.services_without_url)
    if report.verdict != "degraded" or failing or report.unknowns:
        return report.verdict
    urgent = any(f.priority in URGENT and f.suppressed is None for f in findings)
    return "degraded" if urgent else "healthy"


def apply_suppressions(report: TriageReport, suppressions: list[Suppression], today: date) -> TriageReport:
    """The report with findings covered by an unexpired suppression marked, the verdict judged without
    them, and every expired suppression listed in `expiredSuppressions`."""
    active = [s for s in suppressions if not s.expired_on(today)]
    expired = [s for s in suppressions if s.expired_on(today)]
    findings = [_mark(f, active) for f in report.findings]
    suppressed_ids = {f.id for f in findings if f.suppressed is not None}
    return report.model_copy(
        update={
            "findings": findings,
            "plan": [_step(step, suppressed_ids) for step in report.plan],
            "verdict": _verdict(report, findings),
            "expired_suppressions": [
                ReportExpiredSuppression(
                    cause=s.cause, resource=s.resource, reason=s.reason, expires=s.expires, source=s.source
                )
                for s in expired
            ]
            or None,
        }
    )


def expiry_warnings(report: TriageReport) -> list[str]:
    """One line per expired suppression of the report, for standard error."""
    return [
        f"{s.source}: the suppression of {s.cause} on {s.resource} expired on {s.expires.isoformat()}; "
        "its findings count again (fix: renew `expires` or remove the entry)"
        for s in report.expired_suppressions or []
    ]
