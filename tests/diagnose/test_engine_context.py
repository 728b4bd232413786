"""What playbooks see of the probes (diagnose.engine.evidence_context): per service the worst of its
probes, the failing one when any fails, wherever it comes among them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infradiag.diagnose.engine import evidence_context
from infradiag.evidence import Evidence, ProbeResult
from infradiag.evidence.cloudrun import RevisionEvidence

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)


def probe(service: str, path: str, ok: bool) -> ProbeResult:
    return ProbeResult(
        service=service,
        path=path,
        url=f"https://{service}.example.run.app{path}",
        ok=ok,
        outcome="ok" if ok else "http_5xx",
        status=200 if ok else 503,
        latency_ms=10.0,
    )


@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_service_probed_on_several_paths_is_seen_by_its_failing_probe(position: int) -> None:
    api = [probe("api", "/health", True), probe("api", "/live", True)]
    api.insert(position, probe("api", "/ready", False))
    web = [probe("web", "/", True), probe("web", "/health", True)]
    context = evidence_context(Evidence(project="p", region="r", now=NOW, probes=api + web), {})
    assert (context["probe"]["api"]["path"], context["probe"]["api"]["ok"]) == ("/ready", False)
    assert context["probe"]["api"]["status"] == 503
    # Every probe passed: the first stands for the service.
    assert (context["probe"]["web"]["path"], context["probe"]["web"]["ok"]) == ("/", True)
    assert context["failing_services"] == ["api"]
    assert context["probed_services"] == ["api", "web"]


def test_of_several_failing_probes_the_first_is_seen() -> None:
    probes = [probe("api", "/health", True), probe("api", "/ready", False), probe("api", "/db", False)]
    context = evidence_context(Evidence(project="p", region="r", now=NOW, probes=probes), {})
    assert context["probe"]["api"]["path"] == "/ready"


def test_revisions_are_grouped_by_service_in_order() -> None:
    revisions = [
        RevisionEvidence(name=name, resource=f"projects/p/revisions/{name}", service=name.split("-")[0])
        for name in ("api-00002", "web-00001", "api-00001")
    ]
    context = evidence_context(Evidence(project="p", region="r", now=NOW, revisions=revisions), {})
    assert {s: [r["name"] for r in rs] for s, rs in context["revisions_of"].items()} == {
        "api": ["api-00002", "api-00001"],
        "web": ["web-00001"],
    }


def test_the_context_is_plain_json_data_without_empty_fields() -> None:
    expiring = probe("api", "/health", True).model_copy(
        update={"tls_not_after": datetime(2026, 10, 1, tzinfo=UTC), "status": None}
    )
    context = evidence_context(Evidence(project="p", region="r", now=NOW, probes=[expiring]), {"x": 1})
    seen = context["probe"]["api"]
    assert seen["tls_not_after"] == "2026-10-01T00:00:00Z"  # a string, as CEL timestamp() reads it
    assert "status" not in seen and "body_excerpt" not in seen  # absent, so has() tells
    [listed] = context["probes"]
    assert listed["tls_not_after"] == "2026-10-01T00:00:00Z" and "status" not in listed
    assert context["now"] == NOW.isoformat() and context["thresholds"] == {"x": 1}
