"""What the history keeps of one sweep of one environment, read from the v1 report contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infradiag.priority import PRIORITIES, URGENT


@dataclass(frozen=True)
class FindingRecord:
    """One finding as stored; `id` is the report's id, stable for the same cause on the same resource."""

    id: str
    cause: str
    priority: str
    title: str
    resources: tuple[str, ...] = ()
    affected_services: tuple[str, ...] = ()
    suppressed: bool = False

    @property
    def urgent(self) -> bool:
        """P0 or P1 and not accepted in a suppressions file."""
        return self.priority in URGENT and not self.suppressed


@dataclass(frozen=True)
class SweepRecord:
    """One environment's result in one sweep. `error` is set (and `verdict` is `unknown`) when the sweep
    ended without a report, e.g. past its deadline; `id` is assigned by the store."""

    environment: str
    project: str
    started_at: str  # RFC 3339, UTC, e.g. 2026-09-15T23:06:52Z
    duration_ms: int
    verdict: str
    exit_code: int
    findings: tuple[FindingRecord, ...] = ()
    services: dict[str, bool] = field(default_factory=dict)  # service -> every health probe answered ok
    unknowns: int = 0
    error: str | None = None
    id: int | None = None

    @property
    def judged(self) -> bool:
        """True when the sweep reached a verdict, so its findings can be compared with another sweep's."""
        return self.error is None and self.verdict != "unknown"

    def priority_counts(self) -> dict[str, int]:
        """Findings per priority, P0..P3 always present."""
        counts: dict[str, int] = dict.fromkeys(PRIORITIES, 0)
        for finding in self.findings:
            counts[finding.priority] = counts.get(finding.priority, 0) + 1
        return counts


@dataclass(frozen=True)
class Notification:
    """What one sweep tells the world: `report` for stdout and `log_line` (one JSON object) for stderr. The
    history keeps it, committed with the sweep, until it has been written (its outbox)."""

    sweep_id: int
    environment: str
    report: str
    log_line: str


def record_from_report(report: dict[str, Any], exit_code: int) -> SweepRecord:
    """The record of a v1 report (`TriageReport.to_json_dict()`); fields added to v1 later are ignored."""
    services: dict[str, bool] = {}
    for probe in report.get("probes", []):
        services[probe["service"]] = services.get(probe["service"], True) and bool(probe["ok"])
    findings = tuple(
        FindingRecord(
            id=f["id"],
            cause=f["cause"],
            priority=f["priority"],
            title=f["title"],
            resources=tuple(f.get("resources", [])),
            affected_services=tuple(f.get("affectedServices", [])),
            suppressed=bool(f.get("suppressed")),
        )
        for f in report.get("findings", [])
    )
    return SweepRecord(
        environment=report["environment"],
        project=report["project"],
        started_at=report["startedAt"],
        duration_ms=int(report["durationMs"]),
        verdict=report["verdict"],
        exit_code=exit_code,
        findings=findings,
        services=services,
        unknowns=len(report.get("unknowns", [])),
    )
