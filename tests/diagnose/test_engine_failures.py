"""A playbook that fails on the evidence it is given: the diagnosis keeps going, names the expression's
problem, and reports one unknown per failed playbook with the causes left unchecked."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.playbook import load_playbook
from infradiag.evidence import Evidence, ProbeResult
from tests.diagnose.playbook_text import leaf

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)

# Valid CEL that only fails when evaluated: no probe of a service named "nobody". Two causes below it.
FAILING = f"""id: looks-for-nobody
title: t
tree:
  question: q
  answer: a
  when: 'probe["nobody"].ok'
  then:
    - question: q1
      answer: a1
{leaf("app.error", 6)}    - question: q2
      answer: a2
{leaf("app.dependency_failing", 6)}"""


def test_each_playbook_failing_on_the_evidence_is_an_unknown_naming_its_causes(tmp_path: Path) -> None:
    # The same missing probe read by the root's `when`, by its answer, and by `for_each`.
    failing_when = FAILING
    failing_answer = FAILING.replace("id: looks-for-nobody", "id: answer").replace(
        "  answer: a\n  when: 'probe[\"nobody\"].ok'", "  answer: \"{probe['nobody'].path}\""
    )
    failing_items = FAILING.replace(
        "id: looks-for-nobody\n", "id: items\nfor_each: \"[probe['nobody']]\"\nas: p\n"
    ).replace("  when: 'probe[\"nobody\"].ok'\n", "")
    assert len({failing_when, failing_answer, failing_items}) == 3
    paths = [tmp_path / "when.yaml", tmp_path / "answer.yaml", tmp_path / "items.yaml"]
    for path, text in zip(paths, (failing_when, failing_answer, failing_items), strict=True):
        path.write_text(text)
    probe = ProbeResult(
        service="api", path="/health", url="https://api/health", ok=True, outcome="ok", latency_ms=1.0
    )
    evidence = Evidence(project="p", region="r", now=NOW, probes=[probe])
    diagnosis = diagnose(evidence, [load_playbook(p) for p in paths], {})
    assert diagnosis.findings == []
    assert [p.split(": ")[0] for p in diagnosis.problems] == [str(p) for p in paths]
    assert all("nobody" in p for p in diagnosis.problems)
    unknowns = diagnosis.unknowns()
    assert [u.fix for u in unknowns] == [
        f"{p} failed on this evidence; report it with the JSON report attached" for p in paths
    ]
    for unknown in unknowns:
        assert (unknown.source, unknown.reason) == ("playbook", "EVALUATION_FAILED")
        assert unknown.consequence == "app.error, app.dependency_failing could not be checked"
        assert "nobody" in unknown.detail


CITING = """id: cites-everything
title: t
tree:
  question: q
  answer: a
  cause: app.error
  title: "api fails"
  resource: '"projects/p/services/api"'
  affected: '["api"]'
  priority: [{level: P2}]
  confidence: 0.7
  symptom: true
  evidence:
    - source: probe
      when: 'false'
      detail: never cited
    - source: run
      each: '["api", "web"]'
      detail: "service {it}"
    - source: monitoring
      detail: after the skipped one
  remediation:
    summary: "fix {1 + 1}"
    terraform: "resource.api: x = {2 + 2}"
    docs: https://cloud.google.com/run/docs
"""


def test_a_leaf_carries_its_citations_confidence_symptom_flag_and_whole_remediation(tmp_path: Path) -> None:
    path = tmp_path / "cites-everything.yaml"
    path.write_text(CITING)
    evidence = Evidence(project="p", region="r", now=NOW)
    diagnosis = diagnose(evidence, [load_playbook(path)], {})
    assert diagnosis.problems == []
    [finding] = diagnosis.findings
    [why] = finding.why
    assert [(c.source, c.detail) for c in why.evidence] == [
        ("run", "service api"),
        ("run", "service web"),
        ("monitoring", "after the skipped one"),
    ]
    assert (finding.confidence, finding.symptom, finding.playbook) == (0.7, True, "cites-everything")
    assert finding.remediation.summary == "fix 2"
    assert finding.remediation.terraform == "resource.api: x = 4"
    assert finding.remediation.docs == "https://cloud.google.com/run/docs"


def test_a_failing_playbook_is_logged_at_debug_level_with_its_id_and_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "when.yaml"
    path.write_text(FAILING)
    with caplog.at_level(logging.DEBUG, logger="infradiag.diagnose.engine"):
        diagnosis = diagnose(Evidence(project="p", region="r", now=NOW), [load_playbook(path)], {})
    [problem] = diagnosis.problems
    [record] = [r for r in caplog.records if r.name == "infradiag.diagnose.engine"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage() == f"playbook looks-for-nobody: {problem.removeprefix(f'{path}: ')}"


def test_let_bindings_that_read_each_other_are_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "let-cycle.yaml"
    path.write_text(
        FAILING.replace(
            "id: looks-for-nobody\n", "id: let-cycle\nlet:\n  first: second\n  second: first\n"
        ).replace("when: 'probe[\"nobody\"].ok'", "when: first")
    )
    diagnosis = diagnose(Evidence(project="p", region="r", now=NOW), [load_playbook(path)], {})
    assert diagnosis.findings == []
    [problem] = diagnosis.problems
    assert problem.startswith(f"{path}: ")
