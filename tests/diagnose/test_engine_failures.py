"""A playbook that fails on the evidence it is given: the diagnosis keeps going, names the expression's
problem, and reports one unknown per failed playbook with the causes left unchecked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.playbook import load_playbook
from infradiag.evidence import Evidence, ProbeResult

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)

# Valid CEL that only fails when evaluated: no probe of a service named "nobody".
FAILING = """id: looks-for-nobody
title: t
tree:
  question: q
  answer: a
  when: 'probe["nobody"].ok'
  cause: app.error
  title: t
  resource: '"r"'
  affected: '[]'
  priority: [{level: P1}]
  remediation: {summary: s}
"""


def test_a_playbook_failing_on_the_evidence_is_an_unknown_naming_its_causes(tmp_path: Path) -> None:
    path = tmp_path / "looks-for-nobody.yaml"
    path.write_text(FAILING)
    playbook = load_playbook(path)
    probe = ProbeResult(
        service="api", path="/health", url="https://api/health", ok=True, outcome="ok", latency_ms=1.0
    )
    diagnosis = diagnose(Evidence(project="p", region="r", now=NOW, probes=[probe]), [playbook], {})
    assert diagnosis.findings == []
    [problem] = diagnosis.problems
    assert problem.startswith(f"{path}: ")
    [unknown] = diagnosis.unknowns()
    assert (unknown.source, unknown.reason) == ("playbook", "EVALUATION_FAILED")
    assert unknown.fix == f"{path} failed on this evidence; report it with the JSON report attached"
    assert unknown.consequence == "app.error could not be checked"
    assert unknown.detail and unknown.detail in problem


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
