"""A fleet-wide outage as the diagnosis reports it: every service's newest revision failed with the same long
Cloud Run message, and no alert watches any of them: two findings per service, a plan step each, built with
the report's own builder and plan (report/build.py, plan/ranking.py). For the views' scale tests and
bench/report_scale.py."""

from __future__ import annotations

from datetime import UTC, datetime

from infradiag.diagnose.findings import Citation, Finding, Fix, Why
from infradiag.evidence import Evidence, ProbeResult
from infradiag.plan import make_plan
from infradiag.report.build import build_report
from infradiag.report.model import TriageReport

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)
PROJECT, REGION = "acme-fleet", "us-central1"
GFE = "from the Google Front End: no ready instance or revision"


def message(name: str) -> str:
    """Cloud Run's condition message for a revision whose container never listened (about 600 characters)."""
    sentences = (
        f"Revision '{name}-00042-abc' is not ready and cannot serve traffic.",
        "The user-provided container failed to start and listen on the port defined provided by the",
        "PORT=8080 environment variable within the allocated timeout.",
        "This can happen when the container port is misconfigured or if the timeout is too short.",
        "The health check timeout can be extended. Logs for this revision might contain more information.",
        f"Logs URL: https://console.cloud.google.com/logs/viewer?project={PROJECT}"
        f"&resource=cloud_run_revision/service_name/{name}/revision_name/{name}-00042-abc"
        "&advancedFilter=resource.type%3D%22cloud_run_revision%22.",
        "For more troubleshooting guidance, see",
        "https://cloud.google.com/run/docs/troubleshooting#container-failed-to-start",
    )
    return " ".join(sentences)


def _probe(name: str, index: int) -> ProbeResult:
    latency = 150.0 + index % 50
    return ProbeResult(
        service=name,
        path="/health",
        url=f"https://{name}-abcdefghij-uc.a.run.app/health",
        ok=False,
        outcome="http_5xx",
        status=503,
        latency_ms=latency,
        detail=f"503 after {latency:.0f} ms {GFE}",
        served_by="gfe",
    )


def _revision(name: str, probe: ProbeResult) -> Finding:
    resource = f"projects/{PROJECT}/locations/{REGION}/services/{name}"
    said = message(name)
    return Finding(
        cause="run.revision_not_ready",
        priority="P0",
        title=f"The newest revision of {name} is not ready",
        resource=resource,
        affected_services=[name],
        why=[
            Why(
                question=f"Why does {name} fail its health probe?",
                answer=f"{name} answers 503",
                evidence=[Citation(source="probe", detail=f"{name} {probe.path} -> {probe.detail}")],
            ),
            Why(
                question=f"Is the newest revision of {name} ready?",
                answer=f"It did not become ready: {said}",
                evidence=[Citation(source="run", detail=f"condition Ready: CONDITION_FAILED: {said}")],
            ),
        ],
        remediation=Fix(
            summary=f"Fix the failing revision of {name} ({said}) and redeploy",
            commands=[
                f"gcloud logging read 'resource.labels.service_name=\"{name}\"'"
                f" --project {PROJECT} --limit 50"
            ],
        ),
        confidence=0.9,
    )


def _alert_gap(name: str) -> Finding:
    return Finding(
        cause="monitoring.alert_gap",
        priority="P3",
        title=f"No alert watches {name} for run.revision_not_ready",
        resource=f"projects/{PROJECT}/locations/{REGION}/services/{name}",
        affected_services=[name],
        why=[
            Why(
                question=f"Would an alert have told the team about {name}?",
                answer="No: no enabled alert policy watches run.googleapis.com/request_count",
                evidence=[Citation(source="monitoring", detail="0 alert policies: none")],
            )
        ],
        remediation=Fix(
            summary=f"Add an alert policy on run.googleapis.com/request_count for {name}",
            commands=[f"gcloud monitoring policies create --project {PROJECT} --display-name {name}"],
        ),
        confidence=0.7,
    )


def fleet_outage(size: int = 1000) -> TriageReport:
    """The report of `size` services down alike: `size` probes, `2 * size` findings and plan steps."""
    names = [f"svc-{index:04d}" for index in range(size)]
    probes = [_probe(name, index) for index, name in enumerate(names)]
    findings = [_revision(name, probe) for name, probe in zip(names, probes, strict=True)]
    findings += [_alert_gap(name) for name in names]
    evidence = Evidence(project=PROJECT, region=REGION, now=NOW, probes=probes, identity="anonymous (twin)")
    return build_report("fleet", evidence, findings, make_plan(findings), "down", NOW, 1500)


def connector_outage(size: int = 1000) -> TriageReport:
    """`size` services starved by one connector: one finding, its first why citing every probe."""
    names = [f"svc-{index:04d}" for index in range(size)]
    probes = [_probe(name, index) for index, name in enumerate(names)]
    finding = Finding(
        cause="vpc_connector.saturated",
        priority="P0",
        title="VPC connector fleet-conn is out of capacity",
        resource=f"projects/{PROJECT}/locations/{REGION}/connectors/fleet-conn",
        affected_services=names,
        why=[
            Why(
                question=f"Why do {size} services fail their health probe?",
                answer=f"{size} of {size} probed services fail: {', '.join(names)}",
                evidence=[
                    Citation(source="probe", detail=f"{p.service} {p.path} -> {p.detail}") for p in probes
                ],
            )
        ],
        remediation=Fix(
            summary="Raise the capacity of VPC connector fleet-conn",
            commands=[
                "gcloud compute networks vpc-access connectors update fleet-conn"
                f" --region {REGION} --project {PROJECT} --max-instances 10"
            ],
        ),
        confidence=0.9,
    )
    evidence = Evidence(project=PROJECT, region=REGION, now=NOW, probes=probes)
    return build_report("fleet", evidence, [finding], make_plan([finding]), "down", NOW, 1500)
