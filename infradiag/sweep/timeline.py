"""The timeline of one environment's sweeps, as `infradiag history` shows it (terminal or JSON)."""

from __future__ import annotations

from typing import Any

from infradiag.history import HistoryStore, SweepRecord
from infradiag.report.literal import visible
from infradiag.sweep.diff import SweepChange, compare

SCHEMA_ID = "infradiag.history/v1"


def timeline(store: HistoryStore, environment: str, limit: int) -> list[tuple[SweepRecord, SweepChange]]:
    """The last `limit` sweeps, oldest first, each with its change from the sweep with a verdict before it."""
    sweeps = store.timeline(environment, limit)
    previous = store.previous_judged(environment, before_id=sweeps[0].id) if sweeps else None
    entries: list[tuple[SweepRecord, SweepChange]] = []
    for sweep in sweeps:
        entries.append((sweep, compare(sweep, previous, [sweep])))
        if sweep.judged:
            previous = sweep
    return entries


def timeline_json(
    environment: str, database: str, entries: list[tuple[SweepRecord, SweepChange]]
) -> dict[str, Any]:
    """The `infradiag.history/v1` JSON object."""
    return {
        "schema": SCHEMA_ID,
        "environment": environment,
        "database": database,
        "sweeps": [
            {
                "id": sweep.id,
                "startedAt": sweep.started_at,
                "durationMs": sweep.duration_ms,
                "verdict": sweep.verdict,
                "exitCode": sweep.exit_code,
                "error": sweep.error,
                "unknowns": sweep.unknowns,
                "counts": sweep.priority_counts(),
                "findings": [
                    {
                        "id": f.id,
                        "cause": f.cause,
                        "priority": f.priority,
                        "title": f.title,
                        "resources": list(f.resources),
                        "affectedServices": list(f.affected_services),
                        "suppressed": f.suppressed,
                    }
                    for f in sweep.findings
                ],
                "services": dict(sweep.services),
                "newFindings": [f.id for f in change.new],
                "resolvedFindings": [f.id for f in change.resolved],
                "escalatedFindings": [c.finding.id for c in change.escalated],
                "deescalatedFindings": [c.finding.id for c in change.deescalated],
            }
            for sweep, change in entries
        ],
    }


def timeline_lines(environment: str, entries: list[tuple[SweepRecord, SweepChange]]) -> list[str]:
    """Plain-text lines: one per sweep (verdict, counts, failing services), then its finding changes."""
    lines = [f"History of {environment}: {len(entries)} sweep(s), oldest first"]
    for sweep, change in entries:
        counts = " ".join(f"{p}:{n}" for p, n in sweep.priority_counts().items())
        failing = sum(not ok for ok in sweep.services.values())
        line = f"#{sweep.id:<5} {sweep.started_at}  {sweep.verdict:<8}  {counts}  "
        line += f"{failing}/{len(sweep.services)} services failing"
        if sweep.error:
            line += f"  ({visible(sweep.error, one_line=True)})"
        lines.append(line)
        for mark, findings in (("+", change.new), ("-", change.resolved)):
            # A title holds outside text (a health body's keys): one line, controls visible.
            for f in findings:
                lines.append(
                    f"        {mark} {f.priority} {f.cause} [{f.id}] {visible(f.title, one_line=True)}"
                )
        for c in change.escalated + change.deescalated:
            lines.append(f"        ~ {c.before}->{c.finding.priority} {c.finding.cause} [{c.finding.id}]")
    return lines
