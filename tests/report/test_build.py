"""The report as build_report assembles it: findings most urgent first whatever order the diagnosis gave,
the plan's steps as make_plan ranked them."""

from __future__ import annotations

from datetime import UTC, datetime

from infradiag.diagnose.findings import Citation, Finding, Fix, Why
from infradiag.evidence import Evidence, ProbeResult, Unknown
from infradiag.evidence.model import ProbePhases
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


def test_each_part_of_the_evidence_findings_and_plan_is_carried_into_the_report() -> None:
    cited = Finding(
        cause="vpc_connector.saturated",
        priority="P0",
        title="connector out of capacity",
        resource="projects/p/locations/r/connectors/c",
        affected_services=["api"],
        why=[
            Why(
                question="Why does api fail?",
                answer="it times out",
                evidence=[Citation(source="probe", detail="api /health -> 503")],
            )
        ],
        remediation=Fix(summary="raise it", commands=["gcloud raise"], terraform="resource.c: max = 10"),
        confidence=0.9,
    )
    evidence = Evidence(
        project="p",
        region="r",
        now=NOW,
        probes=[
            ProbeResult(
                service="api",
                path="/health",
                url="https://api.example.run.app/health",
                ok=False,
                outcome="http_5xx",
                status=503,
                latency_ms=12.345,
                detail="503 Service Unavailable",
                phases=ProbePhases(dns=1.26, connect=2.0, total=12.345),
            )
        ],
        unknowns=[
            Unknown(
                source="sql",
                reason="PERMISSION_DENIED",
                fix="grant it",
                consequence="no SQL",
                detail="sql.instances.list",
            )
        ],
    )
    report = build_report("staging", evidence, [cited], make_plan([cited]), "down", NOW, 5)
    [finding] = report.findings
    assert (finding.id, finding.cause, finding.priority, finding.title) == (
        cited.id,
        "vpc_connector.saturated",
        "P0",
        "connector out of capacity",
    )
    assert finding.resources == ["projects/p/locations/r/connectors/c"]
    assert finding.affected_services == ["api"] and finding.confidence == 0.9
    [why] = finding.why
    assert (why.question, why.answer) == ("Why does api fail?", "it times out")
    assert [(e.source, e.detail) for e in why.evidence] == [("probe", "api /health -> 503")]
    assert finding.remediation.commands == ["gcloud raise"]
    [step] = report.plan
    assert (step.rank, step.priority, step.action, step.findings, step.blast_radius) == (
        1,
        "P0",
        "raise it",
        [cited.id],
        1,
    )
    assert step.commands == ["gcloud raise"] and step.terraform == ["resource.c: max = 10"]
    [probe] = report.probes
    assert (probe.service, probe.path, probe.url, probe.ok, probe.status, probe.outcome) == (
        "api",
        "/health",
        "https://api.example.run.app/health",
        False,
        503,
        "http_5xx",
    )
    assert probe.latency_ms == 12.3 and probe.detail == "503 Service Unavailable"
    assert probe.phases.model_dump() == {  # rounded to 0.1 ms; None where the phase did not happen
        "dns": 1.3,
        "connect": 2.0,
        "tls": None,
        "first_byte": None,
        "total": 12.3,
    }
    [unknown] = report.unknowns
    assert (unknown.source, unknown.reason, unknown.fix, unknown.consequence, unknown.detail) == (
        "sql",
        "PERMISSION_DENIED",
        "grant it",
        "no SQL",
        "sql.instances.list",
    )


def _gfe(service: str) -> ProbeResult:
    detail = "503 after 154 ms from the Google Front End: no ready instance or revision"
    return ProbeResult(
        service=service, path="/health", url="http://127.0.0.1:1/health", ok=False, outcome="http_5xx",
        status=503, latency_ms=154.0, detail=detail, served_by="gfe",
    )  # fmt: skip


def test_an_answer_of_googles_serving_stack_is_explained_by_the_finding_behind_it() -> None:
    findings = [finding("alerts", "P3", ("auth",)), finding("saturated", "P0", ("auth", "frontend"))]
    plain = ProbeResult(
        service="backend", path="/health", url="http://127.0.0.1:1/health", ok=False, outcome="http_5xx",
        status=503, latency_ms=900.0, detail="503 after 900 ms",
    )  # fmt: skip
    evidence = Evidence(project="p", region="r", now=NOW, probes=[_gfe("auth"), _gfe("search"), plain])
    report = build_report("staging", evidence, findings, make_plan(findings), "down", NOW, 12)
    auth, search, backend = report.probes
    meaning = (
        "503 from the Google Front End: no instance was ready to take the request: none started or passed"
    )
    assert auth.explanation == f"{meaning} its health checks; here because saturated title"  # the P0's
    assert search.explanation == f"{meaning} its health checks"  # no finding covers it: the meaning alone
    assert backend.explanation is None  # the service itself answered: nothing to explain
    assert "explanation" not in report.to_json_dict()["probes"][2]


def test_the_report_says_who_read_the_project_in_every_format() -> None:
    import io

    from rich.console import Console

    from infradiag.report.markdown import render_markdown
    from infradiag.report.terminal import render

    evidence = Evidence(project="p", region="r", now=NOW, identity="reader@p.iam.gserviceaccount.com")
    report = build_report("staging", evidence, [], [], "healthy", NOW, 12)
    out = io.StringIO()
    render(report, Console(file=out, width=80, color_system=None))
    assert (
        out.getvalue().splitlines()[0]
        == "infradiag triage staging (p, r) as reader@p.iam.gserviceaccount.com"
    )
    assert "Read as `reader@p.iam.gserviceaccount.com`." in render_markdown(report)
    assert report.to_json_dict()["identity"] == "reader@p.iam.gserviceaccount.com"
