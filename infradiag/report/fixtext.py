"""How every view words a fix's typed change: each field as current -> proposed, and its risks."""

from __future__ import annotations

import json
from typing import Any

from infradiag.fixes import RISK_TEXT
from infradiag.report.model import ReportFieldChange, ReportPlanStep, TriageReport


def _value(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": "))


def _named(value: Any) -> dict[str, Any] | None:
    """A list of {name, value} entries (database flags, labels) by name; None for any other value."""
    if not isinstance(value, list) or not all(isinstance(v, dict) and "name" in v for v in value):
        return None
    return {str(v["name"]): v.get("value") for v in value}


def change_text(change: ReportFieldChange) -> str:
    """`field: current -> proposed (why)`; a list of named entries shows only the entries that change and
    how many are kept as they are: `settings.databaseFlags: max_connections 50 -> 62, 2 other flags kept`."""
    before, after = _named(change.current if change.current is not None else []), _named(change.proposed)
    if before is not None and after is not None:
        names = list(dict.fromkeys([*before, *after]))
        moved = [
            f"{name} {_value(before.get(name)) if name in before else 'not set'} -> "
            + (_value(after.get(name)) if name in after else "removed")
            for name in names
            if before.get(name, ...) != after.get(name, ...)
        ]
        kept = len(names) - len(moved)
        detail = ", ".join(moved) + (
            f", {kept} other {'entry' if kept == 1 else 'entries'} kept" if kept else ""
        )
    else:
        detail = f"{_value(change.current)} -> {_value(change.proposed)}"
    return f"{change.field}: {detail} ({change.why})"


def risks_text(risks: list[str] | None) -> str:
    """The risks in words, `; `-separated (`restarts the resource: ...; costs more`); empty for none."""
    words = {str(risk): text for risk, text in RISK_TEXT.items()}
    return "; ".join(words.get(risk, risk) for risk in risks or [])


def step_verification(report: TriageReport, step: ReportPlanStep) -> str | None:
    """What `triage --verify-fixes` found for a plan step's fixes, on one line: each distinct verdict of its
    findings (`clears ...`, `does not clear ...`, `cannot be proven: ...`); None when none was verified."""
    details = [
        f.remediation.verification.detail
        for f in report.findings
        if f.id in step.findings and f.remediation.verification is not None
    ]
    return "; ".join(dict.fromkeys(details)) or None
