"""The diagnosis's stages run in order: primary playbooks, then fallback playbooks that see `explained` (the
services covered so far), then review playbooks that see `findings` (everything concluded before them)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.playbook import Playbook, load_playbook
from infradiag.evidence import Evidence

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)


def leaf(id: str, stage: str, when: str, cause: str, service: str) -> str:
    return f"""id: {id}
title: t
stage: {stage}
tree:
  question: q
  answer: a
  when: '{when}'
  cause: {cause}
  title: t
  resource: '"projects/p/things/{id}"'
  affected: '["{service}"]'
  priority: [{{level: P2}}]
  remediation: {{summary: "fix {id}"}}
"""


def playbooks(tmp_path: Path) -> list[Playbook]:
    texts = {
        # Listed review first: the stage, not the order given, decides when a playbook runs.
        "review": leaf("review", "review", "size(findings) == 2", "monitoring.alert_gap", "web"),
        "fallback": leaf("fallback", "fallback", '"api" in explained', "app.error", "web"),
        "primary": leaf("primary", "primary", "true", "app.dependency_failing", "api"),
    }
    loaded = []
    for name, text in texts.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        loaded.append(load_playbook(path))
    return loaded


def test_fallback_sees_what_primary_explained_and_review_sees_both(tmp_path: Path) -> None:
    diagnosis = diagnose(Evidence(project="p", region="r", now=NOW), playbooks(tmp_path), {})
    assert diagnosis.problems == []
    assert sorted(f.playbook for f in diagnosis.findings) == ["fallback", "primary", "review"]
