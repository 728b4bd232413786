"""The probe table on its own (`infradiag probe`): a terminal view and a JSON object.

The JSON's probe entries use the triage report's probe keys (camelCase; service, url, path, ok, status,
outcome, latencyMs, phases, detail) plus every other field of the evidence (failedChecks, tls*, kind,
confirmation, flapping, bodyExcerpt, servedBy), so a script can read either output the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic.alias_generators import to_camel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infradiag.evidence.model import ProbeResult, Unknown
from infradiag.probe.text import duration
from infradiag.report.literal import literal

SCHEMA_ID = "infradiag.probe/v1"


def probe_report(
    *,
    environment: str,
    project: str,
    region: str,
    started_at: datetime,
    duration_ms: int,
    probes: list[ProbeResult],
    unknowns: list[Unknown],
) -> dict[str, Any]:
    """The JSON object `infradiag probe --format json` prints."""
    return {
        "schema": SCHEMA_ID,
        "environment": environment,
        "project": project,
        "region": region,
        "startedAt": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "durationMs": duration_ms,
        "probes": [_camel(p.model_dump(mode="json", exclude_none=True)) for p in probes],
        "unknowns": [_camel(u.model_dump(mode="json")) for u in unknowns],
    }


# Free-form data the service sent: its keys are the service's, not field names to rename.
_VERBATIM = frozenset({"body_json"})


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {to_camel(key): item if key in _VERBATIM else _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def render_probes(probes: list[ProbeResult], console: Console, title: str = "Probes") -> None:
    """The probe table: failures first, each with its phases, certificate and detail; the title and every
    cell shown literally (never markup, control characters made visible)."""
    table = Table(title=literal(title), title_justify="left")
    for column in ("service", "path", "outcome", "status", "latency", "phases", "tls", "detail"):
        table.add_column(column, overflow="fold")
    for p in sorted(probes, key=lambda p: (p.ok, p.service, p.path)):
        table.add_row(
            literal(p.service),
            literal(p.path if p.kind == "http" else f"{p.path} (ws)"),
            literal(p.outcome, "green" if p.ok else "red"),
            Text(str(p.status or "-")),
            Text(duration(p.latency_ms)),
            Text(_phases(p)),
            Text(_tls(p)),
            literal(p.detail),
        )
    console.print(table)


def _phases(p: ProbeResult) -> str:
    shown = [
        (label, value)
        for label, value in (
            ("dns", p.phases.dns),
            ("connect", p.phases.connect),
            ("tls", p.phases.tls),
            ("first byte", p.phases.first_byte),
            ("round trip", p.phases.round_trip),
        )
        if value is not None
    ]
    return ", ".join(f"{label} {duration(value)}" for label, value in shown) or "-"


def _tls(p: ProbeResult) -> str:
    if p.tls_expires_in_days is None and p.tls_error is None:
        return "-"
    parts = []
    if p.tls_expires_in_days is not None:
        days = p.tls_expires_in_days
        parts.append(f"expires in {days:.0f} d" if days >= 0 else f"expired {-days:.0f} d ago")
    if p.tls_verified is False:
        parts.append("not trusted")
    return ", ".join(parts)
