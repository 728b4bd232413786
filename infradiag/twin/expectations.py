"""Checks a triage report (v1 JSON) against a scenario's `expect` block, per docs/scenario-format.md."""

from __future__ import annotations

from typing import Any

from infradiag.priority import PRIORITY_ORDER
from infradiag.twin.scenario import Expectation


def unmet(expect: Expectation, report: dict[str, Any]) -> list[str]:
    """Every way the report misses the expectation; empty when it holds."""
    problems: list[str] = []
    findings = report.get("findings", [])
    if expect.verdict and report.get("verdict") != expect.verdict:
        problems.append(f"verdict is {report.get('verdict')!r}, expected {expect.verdict!r}")
    for wanted in expect.causes:
        matches = [
            f
            for f in findings
            if f["cause"] == wanted.cause
            and (wanted.priority is None or f["priority"] == wanted.priority)
            and (wanted.resource is None or wanted.resource in f["resources"])
        ]
        if not matches:
            seen = [
                (f["cause"], f["priority"], f["resources"]) for f in findings if f["cause"] == wanted.cause
            ]
            problems.append(
                f"missing {wanted.cause} {wanted.priority or ''} on {wanted.resource or 'any'} (saw {seen})"
            )
    for cause in expect.absent:
        if any(f["cause"] == cause for f in findings):
            problems.append(f"{cause} is reported but must be absent")
    if expect.noneAtOrAbove is not None:
        limit = PRIORITY_ORDER[expect.noneAtOrAbove]
        for f in findings:
            if PRIORITY_ORDER[f["priority"]] <= limit:
                problems.append(f"{f['cause']} at {f['priority']} reaches {expect.noneAtOrAbove}")
    sources = {u["source"] for u in report.get("unknowns", [])}
    for api in expect.unknowns:
        if api not in sources:
            problems.append(f"no unknown with source {api!r} (unknowns: {sorted(sources)})")
    return problems
