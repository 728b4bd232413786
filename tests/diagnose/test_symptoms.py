"""A symptom a more urgent root cause explains is cited under it, never listed as a cause of its own."""

from __future__ import annotations

import json

import pytest

from infradiag.diagnose.findings import Citation, Finding, Fix, Priority, Why
from infradiag.diagnose.symptoms import fold_explained
from tests.conftest import SCENARIOS, run_cli


def _finding(cause: str, priority: Priority, services: list[str], symptom: bool = False) -> Finding:
    return Finding(
        cause=cause,
        priority=priority,
        title=f"{cause} on {', '.join(services)}",
        resource=f"projects/p/{cause}/{'-'.join(services)}",
        affected_services=services,
        why=[Why(question="why?", answer="because", evidence=[Citation(source="run", detail="seen")])],
        remediation=Fix(summary=f"fix {cause}"),
        symptom=symptom,
    )


def test_a_symptom_covered_by_a_more_urgent_cause_is_cited_under_it() -> None:
    outage = _finding("vpc_connector.not_ready", "P0", ["backend", "auth"])
    cold = _finding("run.cold_start", "P2", ["auth"], symptom=True)
    result = fold_explained([outage, cold])
    assert [f.cause for f in result] == ["vpc_connector.not_ready"]
    cited = result[0].why[-1].evidence
    assert cited[0] == Citation(source="run", detail="seen")
    assert cited[-1].source == "diagnosis"
    assert "run.cold_start on auth" in cited[-1].detail
    assert "P2 on its own" in cited[-1].detail


def test_several_causes_together_may_explain_a_symptom() -> None:
    one = _finding("sql.instance_unavailable", "P0", ["backend"])
    other = _finding("vpc_connector.not_ready", "P1", ["auth"])
    slow = _finding("run.request_timeout", "P2", ["backend", "auth"], symptom=True)
    result = fold_explained([one, other, slow])
    assert [f.cause for f in result] == ["sql.instance_unavailable", "vpc_connector.not_ready"]
    assert all("run.request_timeout" in f.why[-1].evidence[-1].detail for f in result)


def test_a_symptom_only_partly_explained_stays_listed() -> None:
    outage = _finding("vpc_connector.not_ready", "P0", ["backend"])
    cold = _finding("run.cold_start", "P2", ["backend", "frontend"], symptom=True)
    result = fold_explained([outage, cold])
    assert [f.cause for f in result] == ["vpc_connector.not_ready", "run.cold_start"]
    assert result[0].why[-1].evidence == [Citation(source="run", detail="seen")]


def test_only_a_more_urgent_root_cause_explains() -> None:
    same_level = _finding("lb.backend_timeout", "P2", ["backend"])
    another_symptom = _finding("run.request_timeout", "P1", ["backend"], symptom=True)
    cold = _finding("run.cold_start", "P2", ["backend"], symptom=True)
    result = fold_explained([same_level, another_symptom, cold])
    assert [f.cause for f in result] == ["lb.backend_timeout", "run.request_timeout", "run.cold_start"]


def test_a_root_cause_is_never_folded() -> None:
    outage = _finding("vpc_connector.not_ready", "P0", ["backend"])
    memory = _finding("run.memory_exhausted", "P1", ["backend"])
    assert [f.cause for f in fold_explained([outage, memory])] == [
        "vpc_connector.not_ready",
        "run.memory_exhausted",
    ]


def test_slow_503s_on_warm_instances_are_no_cold_start() -> None:
    """The connector outage makes every scale-to-zero service answer 503 after 5.5 s, while its instances
    ran all along (container/instance_count active 2): a slow probe alone is no cold start."""
    scenario = str(SCENARIOS / "symptom-slow-503s-warm-instances.yaml")
    report = json.loads(run_cli("triage", "--scenario", scenario, "--format", "json").stdout)
    assert [f["cause"] for f in report["findings"]] == ["vpc_connector.not_ready"]
    assert len(report["plan"]) == 1


COLD_START_EXPLAINED = str(SCENARIOS / "symptom-cold-start-explained.yaml")


# Each format is a test of its own: every triage of this scenario waits out its 5.5 s probes.
def test_cold_starts_an_outage_causes_are_cited_under_it() -> None:
    report = json.loads(run_cli("triage", "--scenario", COLD_START_EXPLAINED, "--format", "json").stdout)
    assert [f["cause"] for f in report["findings"]] == ["vpc_connector.not_ready"]
    why = report["findings"][0]["why"]
    cited = [e["detail"] for w in why for e in w["evidence"] if e["source"] == "diagnosis"]
    assert len(cited) == 6
    assert all("run.cold_start" in line for line in cited)


@pytest.mark.parametrize("fmt", ["terminal", "markdown"])
def test_cold_starts_an_outage_causes_are_cited_under_it_in_every_format(fmt: str) -> None:
    shown = run_cli("triage", "--scenario", COLD_START_EXPLAINED, "--format", fmt).stdout
    assert "also explains backend cold-starts" in shown
    assert "run.cold_start" not in shown.split("also explains")[0]
