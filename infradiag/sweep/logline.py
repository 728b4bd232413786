"""One structured log line per environment per sweep, in Cloud Logging's structured-logging format.

A JSON object written on one line to stdout or stderr by a Cloud Run job becomes one log entry: `severity`,
`message`, `time` and `logging.googleapis.com/labels` fill the entry's own fields, everything else lands in
`jsonPayload`, where log-based metrics and alerts can filter on it (e.g. `jsonPayload.counts.newP0P1>0`).
https://cloud.google.com/logging/docs/structured-logging
The fields are a contract (documented in README, "Scheduled sweeps"): add fields, never change one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from infradiag.history.records import SweepRecord
from infradiag.sweep.diff import SweepChange
from infradiag.sweep.partition import TaskShare

EVENT = "infradiag.sweep/v1"


def severity(sweep: SweepRecord, change: SweepChange) -> str:
    """ERROR when a P0/P1 finding is new or the environment is down or could not be swept; WARNING when
    degraded or unknown; NOTICE when findings were resolved; INFO otherwise (LogSeverity names)."""
    if change.newly_urgent or sweep.verdict == "down" or sweep.error is not None:
        return "ERROR"
    if sweep.verdict in ("degraded", "unknown"):
        return "WARNING"
    if change.resolved:
        return "NOTICE"
    return "INFO"


def log_entry(sweep: SweepRecord, change: SweepChange, task: TaskShare) -> dict[str, Any]:
    """The log entry of `sweep` as a JSON-ready dict."""
    failing = sorted(s for s, ok in sweep.services.items() if not ok)
    counts = {
        **sweep.priority_counts(),
        "findings": len(sweep.findings),
        "new": len(change.new),
        "resolved": len(change.resolved),
        "escalated": len(change.escalated),
        "deescalated": len(change.deescalated),
        "newP0P1": len(change.newly_urgent),
        "services": len(sweep.services),
        "servicesFailing": len(failing),
        "unknowns": sweep.unknowns,
    }
    return {
        "severity": severity(sweep, change),
        "message": summary(sweep, change),
        "time": sweep.started_at,
        "logging.googleapis.com/labels": {
            "app": "infradiag",
            "event": EVENT,
            "environment": sweep.environment,
            "verdict": sweep.verdict,
        },
        "event": EVENT,
        "environment": sweep.environment,
        "project": sweep.project,
        "sweepId": sweep.id,
        "startedAt": sweep.started_at,
        "durationMs": sweep.duration_ms,
        "verdict": sweep.verdict,
        "previousVerdict": change.previous_verdict,
        "firstSweep": change.first,
        "exitCode": sweep.exit_code,
        "error": sweep.error,
        "counts": counts,
        "newFindings": [f.id for f in change.new],
        "resolvedFindings": [f.id for f in change.resolved],
        "escalatedFindings": [c.finding.id for c in change.escalated],
        "deescalatedFindings": [c.finding.id for c in change.deescalated],
        "newP0P1Findings": [f.id for f in change.newly_urgent],
        "findings": [
            {"id": f.id, "cause": f.cause, "priority": f.priority, "resources": list(f.resources)}
            for f in sweep.findings
        ],
        "servicesFailing": failing,
        "flappingServices": sorted(change.flapping),
        "task": {"index": task.index, "count": task.count},
        "redelivered": False,
    }


def log_line(sweep: SweepRecord, change: SweepChange, task: TaskShare) -> str:
    """`log_entry` serialized on a single line, as Cloud Logging's agents expect."""
    return json.dumps(log_entry(sweep, change, task), separators=(",", ":"), sort_keys=False)


def redelivered_line(line: str, at: datetime) -> str:
    """`line` (a `log_line`) as a later sweep writes it because its own sweep could not: `redelivered` true,
    `message` prefixed `late: `, and `time` the moment `at` it is written, while `startedAt` and `sweepId`
    stay the original sweep's. A log-based metric counts an entry at its `time` (and not at all once that is
    a day old), so an alert on `counts.newP0P1` sees the late line now rather than in a window already past.
    https://cloud.google.com/logging/docs/logs-based-metrics/troubleshooting"""
    entry = json.loads(line)
    entry["time"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry["message"] = f"late: {entry['message']}"
    entry["redelivered"] = True
    return json.dumps(entry, separators=(",", ":"), sort_keys=False)


def summary(sweep: SweepRecord, change: SweepChange) -> str:
    """A one-line human summary, e.g. `staging: down (was healthy); new P0 vpc_connector.saturated`."""
    head = f"{sweep.environment}: {sweep.verdict}"
    if sweep.error is not None:
        head += f" ({sweep.error})"
    elif change.first:
        head += " (first sweep)"
    elif change.previous_verdict not in (None, sweep.verdict):
        head += f" (was {change.previous_verdict})"
    parts = [head]
    parts += [f"new {f.priority} {f.cause}" for f in change.new]
    parts += [f"resolved {f.priority} {f.cause}" for f in change.resolved]
    parts += [f"escalated {c.before}->{c.finding.priority} {c.finding.cause}" for c in change.escalated]
    parts += [f"de-escalated {c.before}->{c.finding.priority} {c.finding.cause}" for c in change.deescalated]
    parts += [f"flapping {s}" for s in sorted(change.flapping)]
    if len(parts) == 1 and sweep.error is None and not change.first:
        parts.append("no change")
    return "; ".join(parts)
