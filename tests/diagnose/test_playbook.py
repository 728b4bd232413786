"""Playbooks load from data; broken ones fail with file and line; the walk keeps every why."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from infradiag.config import Thresholds
from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbook, load_playbooks
from infradiag.errors import UsageError
from infradiag.evidence import ConnectorEvidence, Evidence, ProbeResult, ServiceEvidence
from tests.diagnose.playbook_text import leaf

CONNECTOR = "projects/p-123456/locations/r1/connectors/c1"
THRESHOLDS = Thresholds().model_dump()


def evidence(failing: list[str], healthy: list[str], cpu: float | None) -> Evidence:
    names = failing + healthy
    return Evidence(
        project="p-123456",
        region="r1",
        now=datetime(2026, 1, 1, tzinfo=UTC),
        services=[
            ServiceEvidence(
                name=n,
                resource=f"projects/p-123456/locations/r1/services/{n}",
                region="r1",
                connector=CONNECTOR,
            )
            for n in names
        ],
        connectors=[
            ConnectorEvidence(
                name="c1",
                resource=CONNECTOR,
                region="r1",
                state="READY",
                max_instances=3,
                instances_max=2,
                cpu_p95=cpu,
            )
        ],
        probes=[
            ProbeResult(
                service=n,
                path="/health",
                url=f"http://x/{n}",
                ok=n in healthy,
                outcome="ok" if n in healthy else "http_5xx",
                status=200 if n in healthy else 503,
                latency_ms=10,
                detail="200" if n in healthy else "503 after 0.9 s",
            )
            for n in names
        ],
    )


def test_shipped_playbooks_load() -> None:
    ids = {p.id for p in load_playbooks(PLAYBOOK_DIR)}
    assert {"vpc-connector-saturation", "app-error"} <= ids


def test_saturated_connector_with_most_services_failing_is_p0_with_three_whys() -> None:
    result = diagnose(evidence(["a", "b", "c"], ["d"], cpu=0.97), load_playbooks(), THRESHOLDS)
    (finding,) = result.findings
    assert (finding.cause, finding.priority, finding.resource) == ("vpc_connector.saturated", "P0", CONNECTOR)
    assert finding.affected_services == ["a", "b", "c"]
    assert len(finding.why) == 3
    assert any("p95 0.97" in e.detail for e in finding.why[2].evidence)
    assert result.problems == []


def test_saturated_connector_with_few_failing_is_p1() -> None:
    result = diagnose(evidence(["a"], ["b", "c", "d"], cpu=0.95), load_playbooks(), THRESHOLDS)
    assert [(f.cause, f.priority) for f in result.findings] == [("vpc_connector.saturated", "P1")]


def test_a_connector_with_headroom_is_not_blamed_and_the_app_is() -> None:
    result = diagnose(evidence(["a"], ["b"], cpu=0.4), load_playbooks(), THRESHOLDS)
    assert [f.cause for f in result.findings] == ["app.error"]


def test_missing_metrics_do_not_blame_the_connector() -> None:
    result = diagnose(evidence(["a", "b"], [], cpu=None), load_playbooks(), THRESHOLDS)
    assert "vpc_connector.saturated" not in [f.cause for f in result.findings]


# Line 6 is the `when`, line 9 the leaf's `resource` (the broken playbooks below name those lines).
VALID_LEAF = f"""id: x
title: t
tree:
  question: q
  answer: a
  when: 'true'
{leaf("app.error", 2)}"""


def test_the_valid_leaf_loads(tmp_path: Path) -> None:
    assert load_playbook(_broken(tmp_path, VALID_LEAF)).tree.cause == "app.error"


def _broken(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (VALID_LEAF.replace("when: 'true'", "when: size("), 6, "invalid CEL"),
        (VALID_LEAF.replace("resource: '\"r\"'", "resource: a +"), 9, "invalid CEL"),
        # names out of scope: anywhere, and the loop variable at the root (bound only below it)
        (VALID_LEAF.replace("when: 'true'", "when: nosuch > 1"), 6, "reads `nosuch`"),
        (VALID_LEAF.replace("title: t\n", "title: t\nfor_each: item.xs\n", 1), 3, "reads `item`"),
        (VALID_LEAF.replace("when: 'true'", "when: '1 + 1'"), 6, "never true or false"),
        ("id: x\ntitle: t\ntree:\n  question: q\n  answer: a\n  bogus: 1\n", 6, "bogus"),
        ("id: x\ntitle: t\ntree:\n  question: q\n  answer: a\n", 3, "then"),
        ("id: x\n  title: : t\n", 2, "invalid YAML"),
    ],
)
def test_broken_playbook_names_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = _broken(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_playbook(path)
    assert caught.value.where == f"{path}:{line}"
    assert fragment in caught.value.one_line()


def _probe_only(outcome: str, **fields: object) -> Evidence:
    base = evidence(["a"], ["b", "c"], cpu=0.3)
    failing = base.probes[0].model_copy(update={"outcome": outcome, "status": None, **fields})
    return base.model_copy(update={"probes": [failing, *base.probes[1:]]})


def test_dns_and_tls_errors_are_their_own_causes() -> None:
    # The twin cannot express these (its service URLs are loopback, its TLS faults expired or untrusted),
    # so they are checked on evidence as the probe reports it.
    books = load_playbooks()
    dns = diagnose(_probe_only("dns_error", detail="DNS: name does not resolve"), books, THRESHOLDS)
    assert [(f.cause, f.priority) for f in dns.findings] == [("dns.resolution_failed", "P1")]
    tls = diagnose(_probe_only("tls_error", detail="TLS: certificate has expired"), books, THRESHOLDS)
    assert [f.cause for f in tls.findings] == ["tls.certificate_invalid"]


@pytest.mark.parametrize(("days", "priority"), [(10.0, "P2"), (2.0, "P1"), (30.0, None)])
def test_certificate_expiry_priority_by_days_left(days: float, priority: str | None) -> None:
    base = evidence([], ["a", "b"], cpu=0.3)
    soon = base.probes[0].model_copy(
        update={
            "tls_expires_in_days": days,
            "tls_verified": True,
            "tls_not_after": datetime(2026, 9, 20, tzinfo=UTC),
        }
    )
    result = diagnose(
        base.model_copy(update={"probes": [soon, base.probes[1]]}), load_playbooks(), THRESHOLDS
    )
    found = [(f.cause, f.priority) for f in result.findings]
    assert found == ([("tls.certificate_expiring", priority)] if priority else [])
