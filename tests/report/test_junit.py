"""JUnit output, read back with junitparser: a testcase per probed service and per finding, counts that match
the testcases on every testsuite, failures that carry the evidence."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

from infradiag.report.junit import junit_xml
from infradiag.report.model import ReportUnknown
from tests.conftest import SCENARIOS, run_cli
from tests.report.reports import degraded_report, failing_probe

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
HEALTHY = SCENARIOS / "staging-healthy.yaml"


def read(path: Path) -> dict[str, TestSuite]:
    """Every testsuite by name, after checking that each one's declared counts match its testcases."""
    xml = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.values():
        cases = list(suite)
        counted = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if any(isinstance(r, Failure) for r in c.result)),
            "errors": sum(1 for c in cases if any(isinstance(r, Error) for r in c.result)),
            "skipped": sum(1 for c in cases if any(isinstance(r, Skipped) for r in c.result)),
        }
        declared = {k: getattr(suite, k) for k in counted}
        assert declared == counted, suite.name
        assert suite.time is not None
        for key in totals:
            totals[key] += counted[key]
    assert {k: getattr(xml, k) for k in totals} == totals
    return suites


def test_incident_junit_fails_every_probe_and_the_finding_with_evidence(tmp_path: Path) -> None:
    junit = tmp_path / "reports" / "infradiag.xml"  # the folder is created
    result = run_cli("triage", "--scenario", str(INCIDENT), "--format", "json", "--junit", str(junit))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)  # stdout still carries only the report
    suites = read(junit)
    probes = suites["infradiag.probes"]
    assert sorted(c.name for c in probes) == sorted({p["service"] for p in report["probes"]})
    assert probes.failures == 9
    backend = next(c for c in probes if c.name == "backend")
    [failure] = backend.result
    assert failure.type == "http_5xx"
    assert "status: 503" in (failure.text or "") and "/health" in (failure.text or "")
    findings = suites["infradiag.findings"]
    assert findings.tests == len(report["findings"])
    # At or above --fail-on (P1) fails; below it passes, its chain in system-out.
    assert findings.failures == sum(1 for f in report["findings"] if f["priority"] in ("P0", "P1"))
    for below in (c for c in findings if c.name.startswith(("P2", "P3"))):
        assert below.is_passed and "below the --fail-on P1 threshold" in (below.system_out or "")
    [case] = [c for c in findings if c.name.startswith("P0 vpc_connector.saturated:")]
    [failure] = case.result
    assert isinstance(failure, Failure)
    assert failure.type == "vpc_connector.saturated"
    text = failure.text or ""
    assert "vpcaccess.googleapis.com/connector/cpu/utilizations" in text  # the evidence
    assert "gcloud compute networks vpc-access connectors update staging-conn" in text  # the fix
    assert suites["infradiag.unknowns"].tests == 0


def test_healthy_junit_passes_every_service(tmp_path: Path) -> None:
    junit = tmp_path / "healthy.xml"
    result = run_cli("triage", "--scenario", str(HEALTHY), "--junit", str(junit), "--quiet")
    assert result.returncode == 0, result.stderr
    suites = read(junit)
    assert suites["infradiag.probes"].tests == 9
    assert suites["infradiag.probes"].failures == 0
    assert all(case.is_passed for suite in suites.values() for case in suite)


def test_gate_without_a_verdict_writes_one_error(tmp_path: Path) -> None:
    junit = tmp_path / "gate.xml"
    result = run_cli("gate", "--scenario", str(HEALTHY), "--deadline", "1ms", "--junit", str(junit))
    assert result.returncode == 3, result.stderr
    suites = read(junit)
    [suite] = suites.values()
    [case] = list(suite)
    [error] = case.result
    assert isinstance(error, Error)
    assert "no verdict" in (error.message or "")


def test_unknowns_are_errors_and_xml_never_breaks_on_control_characters(tmp_path: Path) -> None:
    report = degraded_report(
        probes=[failing_probe("svc\x00\x1b", "body \x07 with <xml> & \x0b controls")],
        unknowns=[
            ReportUnknown(
                source="monitoring",
                reason="PERMISSION_DENIED",
                fix="grant roles/monitoring.viewer",
                consequence="load unknown",
            )
        ],
    )
    path = tmp_path / "j.xml"
    path.write_bytes(junit_xml(report, "P1", "e"))
    suites = read(path)
    [probe] = list(suites["infradiag.probes"])
    assert "<xml> &" in (probe.result[0].message or "")
    [unknown] = list(suites["infradiag.unknowns"])
    assert isinstance(unknown.result[0], Error)
    assert "roles/monitoring.viewer" in (unknown.result[0].text or "")


def test_text_round_trips_and_what_xml_cannot_carry_is_shown(tmp_path: Path) -> None:
    detail = "one\r\ntwo ]]> &amp; <b> \u202e \x85 | \ud800 \ufffe \x00 \x1b[31m"
    shown = "one\r\ntwo ]]> &amp; <b> \u202e \x85 | \\ud800 \\ufffe \\x00 \\x1b[31m"
    report = degraded_report(probes=[failing_probe("svc\r", detail)])
    path = tmp_path / "j.xml"
    path.write_bytes(junit_xml(report, "P1", "e"))
    ET.parse(path)
    [probe] = list(read(path)["infradiag.probes"])
    assert probe.name == "svc\r"
    [failure] = probe.result
    assert failure.message == f"svc\r /health -> {shown}"
    assert f"detail: {shown}" in (failure.text or "")


def test_a_service_without_url_is_a_failing_probe_case(tmp_path: Path) -> None:
    """A service Cloud Run serves nowhere was never probed, and CI must see it fail, not vanish."""
    report = degraded_report(probes=[failing_probe("auth", "500")])
    report = report.model_copy(update={"services_without_url": ["billing"]})
    path = tmp_path / "junit.xml"
    path.write_bytes(junit_xml(report, "P1", "e"))
    probes = read(path)["infradiag.probes"]
    cases = {case.name: case for case in probes}
    assert set(cases) == {"auth", "billing"}
    failure = next(r for r in cases["billing"].result if isinstance(r, Failure))
    assert failure.type == "no_url"
    assert "billing" in (failure.message or "") and "not probed" in (failure.message or "")
