"""The verdict: never healthy for what was not examined, never better than the probes allow."""

from __future__ import annotations

import pytest

from infradiag.diagnose.findings import Finding, Fix
from infradiag.evidence import ProbeResult
from infradiag.plan import verdict


def probe(service: str, ok: bool) -> ProbeResult:
    return ProbeResult(
        service=service,
        path="/health",
        url=f"https://{service}.example.run.app/health",
        ok=ok,
        outcome="ok" if ok else "http_5xx",
        status=200 if ok else 503,
        latency_ms=10.0,
        detail="",
    )


@pytest.mark.parametrize(
    ("probes", "examined", "missing", "expected"),
    [
        ([probe("a", True), probe("b", True)], True, False, "healthy"),
        ([probe("a", True), probe("b", True)], True, True, "degraded"),
        ([probe("a", True), probe("b", False)], True, False, "degraded"),
        ([probe("a", False), probe("b", False)], True, False, "down"),
        # Not everything asked for was examined (a service missing, nothing probed): never a pass...
        ([probe("a", True)], False, False, "unknown"),
        ([probe("a", True), probe("b", False)], False, False, "unknown"),
        ([], False, False, "unknown"),
        # ...but what was probed and failed is still reported as down.
        ([probe("a", False)], False, False, "down"),
    ],
)
def test_verdict(probes: list[ProbeResult], examined: bool, missing: bool, expected: str) -> None:
    assert verdict(probes, [], examined, missing) == expected


@pytest.mark.parametrize(
    ("probes", "without_url", "expected"),
    [
        # A service without a URL serves nothing (Cloud Run sets `uri` once a revision serves): it fails.
        ([probe("a", True), probe("b", True)], ["never"], "degraded"),
        ([], ["never"], "down"),
        ([probe("a", False)], ["never"], "down"),
    ],
)
def test_a_service_without_url_counts_as_failing(
    probes: list[ProbeResult], without_url: list[str], expected: str
) -> None:
    assert verdict(probes, [], True, False, without_url) == expected


def test_evidence_is_taken_as_complete_unless_said_missing() -> None:
    assert verdict([probe("a", True)], [], True) == "healthy"


def test_a_service_fails_when_any_of_its_probes_fails_whatever_their_order() -> None:
    for probes in ([probe("a", False), probe("a", True)], [probe("a", True), probe("a", False)]):
        assert verdict([*probes, probe("b", True)], [], True) == "degraded"


def finding(priority: str) -> Finding:
    return Finding(
        cause="x",
        priority=priority,  # type: ignore[arg-type]
        title="x",
        resource="r",
        affected_services=["a"],
        remediation=Fix(summary="fix x"),
    )


@pytest.mark.parametrize(
    ("priority", "expected"),
    [("P0", "degraded"), ("P1", "degraded"), ("P2", "healthy"), ("P3", "healthy")],
)
def test_a_p0_or_p1_finding_degrades_services_that_all_answer(priority: str, expected: str) -> None:
    assert verdict([probe("a", True)], [finding(priority)], True) == expected
