"""The human view of a sweep: per environment, the verdict and what changed since the last sweep.

Names, titles and errors come from outside (APIs, probe bodies, configs): each is shown on one line with its
control characters made visible (report/literal.py), so none can forge a line or act on the terminal.
"""

from __future__ import annotations

from infradiag.history.records import FindingRecord, SweepRecord
from infradiag.report.literal import visible
from infradiag.sweep.diff import SweepChange


def change_lines(sweep: SweepRecord, change: SweepChange) -> list[str]:
    """Plain-text lines: a heading, then one line per new, resolved, escalated, de-escalated finding and
    per flapping service."""
    heading = f"{_line(sweep.environment)}: {sweep.verdict}"
    if sweep.error is not None:
        heading += f" (no verdict: {_line(sweep.error)})"
    elif change.first:
        heading += " (first sweep)"
    elif change.previous_verdict != sweep.verdict:
        heading += f" (was {change.previous_verdict})"
    failing = [s for s, ok in sorted(sweep.services.items()) if not ok]
    heading += f"  sweep #{sweep.id}, {len(failing)}/{len(sweep.services)} services failing"
    lines = [heading]
    lines += [_finding("new", f) for f in change.new]
    lines += [_finding("resolved", f) for f in change.resolved]
    lines += [_finding(f"escalated {c.before}->", c.finding) for c in change.escalated]
    lines += [_finding(f"de-escalated {c.before}->", c.finding) for c in change.deescalated]
    lines += [
        f"  flapping     {_line(s)}: {n} state changes in the last sweeps" for s, n in change.flapping.items()
    ]
    if len(lines) == 1 and sweep.judged and not change.first:
        lines.append("  no change since the last sweep")
    return lines


def _line(value: str) -> str:
    return visible(value, one_line=True)


def _finding(label: str, finding: FindingRecord) -> str:
    accepted = " (accepted)" if finding.suppressed else ""
    where = f" on {_line(finding.resources[0])}" if finding.resources else ""
    head = f"{finding.priority} {_line(finding.cause)}{where}  [{_line(finding.id)}]{accepted}"
    return f"  {label:<12} {head}\n               {_line(finding.title)}"
