"""Every fix every scenario emits is a command gcloud accepts and Terraform the google provider accepts.

Each scenario under scenarios/ is triaged in-process; every `gcloud` command and every Terraform text of its
findings' remediations and of its plan's steps is checked against the committed tables
(`tests/fixes/gcloud.py`, `tests/fixes/terraform.py`). The cases that do not pass yet are listed below per
playbook as strict expected failures: a case that starts passing fails until its entry is removed, so the
list can only shrink.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCENARIOS
from tests.fixes import gcloud, terraform
from tests.scenario_triage import ALL, group, triage

TYPED = "issue 14: rendered from a typed change"
# Per playbook, the scenarios whose commands or Terraform from that playbook do not pass yet, and why.
PENDING: dict[str, dict[str, Any]] = {}


def _marks(scenario: str, part: str) -> list[pytest.MarkDecorator]:
    reasons = [
        f"{playbook}: {entry['reason']}" for playbook, entry in PENDING.items() if scenario in entry[part]
    ]
    return [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []


CASES = [
    pytest.param(path, part, id=f"{path.stem}-{part}", marks=[group(path), *_marks(path.stem, part)])
    for path in ALL
    for part in ("commands", "terraform")
]


@cache
def emitted(path: Path) -> dict[str, list[str]]:
    """The distinct commands and Terraform texts of one scenario's triage: every finding's remediation and
    every plan step."""
    result = triage(path)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    commands: list[str] = []
    texts: list[str] = []
    sources = [f.get("remediation") or {} for f in report["findings"]] + list(report.get("plan") or [])
    for source in sources:
        commands.extend(source.get("commands") or [])
        text = source.get("terraform")
        # An empty text is no Terraform (a fix that has none, as the report's plan reads it).
        texts.extend(t for t in ([text] if isinstance(text, str) else text or []) if t)
    return {"commands": list(dict.fromkeys(commands)), "terraform": list(dict.fromkeys(texts))}


def test_the_pending_list_names_real_playbooks_and_scenarios() -> None:
    playbooks = {p.name for p in (SCENARIOS.parent / "infradiag" / "playbooks").glob("*.yaml")}
    scenarios = {p.stem for p in ALL}
    for playbook, entry in PENDING.items():
        assert playbook in playbooks
        assert set(entry["commands"]) | set(entry["terraform"]) <= scenarios, playbook


@pytest.mark.parametrize(("path", "part"), CASES)
def test_every_emitted_fix_parses(path: Path, part: str) -> None:
    check = gcloud.problems if part == "commands" else terraform.problems
    table = gcloud.load_table() if part == "commands" else terraform.load_table()
    problems = [problem for text in emitted(path)[part] for problem in check(text, table)]
    assert problems == []
