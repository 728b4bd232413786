"""Every risky step of every scenario's plan is marked: a command that deletes, cannot be undone, lets more
traffic in, or bills more carries that risk in the step's `risks`, and a step with a risk other than
costs_more says its way back (docs/report-format.md, Remediation)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.scenario_triage import ALL, group, triage

# What a command does -> the risks, any one of which marks it.
RULES: list[tuple[re.Pattern[str], frozenset[str]]] = [
    (re.compile(r"\bdelete\b"), frozenset({"drops_traffic", "irreversible"})),
    (re.compile(r"\bexpand-ip-range\b"), frozenset({"irreversible"})),
    (
        re.compile(r"\brules create\b.*--action allow|firewall-rules create\b.*--action ALLOW", re.I),
        frozenset({"widens_exposure"}),
    ),
    (re.compile(r"--ingress all\b"), frozenset({"widens_exposure"})),
    (re.compile(r"\brun services add-iam-policy-binding\b"), frozenset({"widens_exposure"})),
    # A Cloud Run template change deploys a new revision.
    (
        re.compile(r"\brun services update\b.*--(vpc-connector|min-instances|max-instances)\b"),
        frozenset({"restarts"}),
    ),
    (re.compile(r"\bconnectors create\b"), frozenset({"costs_more", "drops_traffic"})),
    (re.compile(r"\baddresses create\b|\bnats create\b"), frozenset({"costs_more"})),
    (
        re.compile(r"\b(update|patch)\b.*--(max-instances|min-instances|tier|machine-type)\b"),
        frozenset({"costs_more"}),
    ),
]


def unmarked(path: Path) -> list[str]:
    found = []
    for step in json.loads(triage(path).stdout).get("plan") or []:
        risks = set(step.get("risks") or [])
        for command in step.get("commands") or []:
            for pattern, wanted in RULES:
                if pattern.search(command) and not risks & wanted:
                    found.append(f"{step['action']!r}: {command!r} needs one of {sorted(wanted)}")
        if risks - {"costs_more"} and not step.get("wayBack"):
            found.append(f"{step['action']!r}: risks {sorted(risks)} without a way back")
    return found


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=group(p)) for p in ALL])
def test_every_risky_step_is_marked(path: Path) -> None:
    assert unmarked(path) == []
