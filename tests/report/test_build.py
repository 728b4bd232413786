"""The report as build_report assembles it: findings most urgent first whatever order the diagnosis gave,
the plan's steps as make_plan ranked them."""

from __future__ import annotations

from datetime import UTC, datetime

from infradiag.diagnose.findings import Finding, Fix
from infradiag.evidence import Evidence
from infradiag.plan import make_plan
from infradiag.report.build import build_report

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)


def finding(cause: str, priority: str, services: tuple[str, ...], confidence: float = 0.8) -> Finding:
    return Finding(
        cause=cause,
        priority=priority,  # type: ignore[arg-type]
        title=f"{cause} title",
        resource=f"projects/p/things/{cause}",
        affected_services=list(services),
        remediation=Fix(summary=f"fix {cause}"),
        confidence=confidence,
    )


def test_findings_are_listed_most_urgent_first() -> None:
    findings = [
        finding("minor", "P3", ("a", "b", "c")),
        finding("narrow", "P1", ("a",)),
        finding("outage", "P0", ("a",)),
        finding("wide", "P1", ("a", "b")),
        finding("unsure", "P1", ("c", "d"), confidence=0.5),
    ]
    evidence = Evidence(project="p", region="us-central1", now=NOW)
    report = build_report("staging", evidence, findings, make_plan(findings), "degraded", NOW, 12)
    assert [f.cause for f in report.findings] == ["outage", "wide", "unsure", "narrow", "minor"]
    assert [s.action for s in report.plan] == [
        "fix outage",
        "fix wide",
        "fix unsure",
        "fix narrow",
        "fix minor",
    ]
    assert [s.blast_radius for s in report.plan] == [1, 2, 2, 1, 3]
    assert (report.environment, report.project, report.region) == ("staging", "p", "us-central1")
    assert (report.verdict, report.duration_ms, report.started_at) == ("degraded", 12, NOW)


def test_services_without_url_are_left_out_when_there_are_none() -> None:
    evidence = Evidence(project="p", region="r", now=NOW)
    assert build_report("s", evidence, [], [], "unknown", NOW, 1, []).services_without_url is None
    without = build_report("s", evidence, [], [], "down", NOW, 1, ["never"])
    assert without.services_without_url == ["never"]
