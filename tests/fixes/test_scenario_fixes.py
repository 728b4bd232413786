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

from tests.conftest import SCENARIOS, run_cli
from tests.fixes import gcloud, terraform

ALL = sorted(SCENARIOS.glob("*.yaml"))
TYPED = "issue 14: rendered from a typed change"
NOT_HCL = "issue 14: the terraform text is not yet a complete HCL block"
# Per playbook, the scenarios whose commands or Terraform from that playbook do not pass yet, and why.
PENDING: dict[str, dict[str, Any]] = {
    "sql.yaml": {
        "reason": TYPED,
        "commands": ["cause-sql-cpu-saturated", "cause-sql-suspended-kms"],
        "terraform": [
            "cause-sql-cpu-saturated",
            "cause-sql-max-connections",
            "cause-sql-replica-max-connections",
            "cause-sql-stopped",
            "mixed-sql-connections-and-memory",
        ],
    },
    "vpc-connector-saturation.yaml": {
        "reason": TYPED,
        "commands": ["staging-incident-full", "staging-vpc-connector-saturation"],
        "terraform": ["staging-incident-full", "staging-vpc-connector-saturation"],
    },
    "run-access.yaml": {
        # The prober's identity (the service account its ID tokens come from) is not in the evidence.
        "reason": "issue 14: the prober's identity is not in the evidence (serviceAccount:PROBER_SA)",
        "commands": ["cause-run-invoker-denied"],
        "terraform": ["cause-run-invoker-denied"],
    },
    "lb.yaml": {
        "reason": NOT_HCL,
        "commands": [],
        "terraform": [
            "cause-lb-backend-timeout",
            "cause-lb-health-check-misconfigured",
            "cause-lb-health-check-named-port-missing",
            "cause-lb-health-check-wrong-port",
            "cause-lb-probes-blocked-firewall-policy",
            "cause-lb-probes-blocked-implied-deny",
            "cause-lb-regional-health-check-on-serverless",
            "cause-lb-regional-probes-blocked",
            "staging-incident-full",
        ],
    },
    "monitoring-alert-gap.yaml": {
        "reason": NOT_HCL,
        "commands": [],
        "terraform": [
            "cause-sql-instance-unavailable",
            "cause-sql-stopped",
            "cause-sql-suspended-billing",
            "cause-sql-suspended-kms",
            "cause-vpc-nat-auto-allocation-failed",
            "cause-vpc-nat-endpoint-conflict",
            "cause-vpc-nat-exhausted",
            "cause-vpc-nat-manual-ip-short",
            "cause-vpc-nat-router-status-short",
            "staging-incident-full",
            "staging-vpc-connector-saturation",
        ],
    },
    "vpc-connector-firewall.yaml": {
        "reason": NOT_HCL,
        "commands": [],
        "terraform": [
            "cause-vpc-connector-firewall-blocked",
            "cause-vpc-connector-firewall-masked",
            "cause-vpc-connector-firewall-policy-goto-next",
            "cause-vpc-connector-firewall-policy-org-deny",
        ],
    },
    "vpc-connector-headroom.yaml": {
        "reason": NOT_HCL,
        "commands": [],
        "terraform": ["healthy-connector-headroom-nearly-gone", "red-herring-saturated-connector-unused"],
    },
    "vpc-connector-state.yaml": {
        "reason": NOT_HCL,
        "commands": [],
        "terraform": [
            "cause-vpc-connector-missing",
            "cause-vpc-connector-not-ready",
            "cause-vpc-connector-region-mismatch",
            "symptom-cold-start-explained",
            "symptom-slow-503s-warm-instances",
        ],
    },
    "vpc-direct-egress.yaml": {
        "reason": NOT_HCL,
        "commands": [],
        "terraform": ["cause-vpc-direct-egress-subnet-small"],
    },
    "vpc-egress-nat.yaml": {"reason": NOT_HCL, "commands": [], "terraform": ["cause-vpc-egress-without-nat"]},
    "vpc-nat-exhausted.yaml": {
        "reason": NOT_HCL,
        "commands": [],
        "terraform": [
            "cause-vpc-nat-auto-allocation-failed",
            "cause-vpc-nat-endpoint-conflict",
            "cause-vpc-nat-exhausted",
            "cause-vpc-nat-manual-ip-short",
            "cause-vpc-nat-router-status-short",
        ],
    },
}


def _marks(scenario: str, part: str) -> list[pytest.MarkDecorator]:
    reasons = [
        f"{playbook}: {entry['reason']}" for playbook, entry in PENDING.items() if scenario in entry[part]
    ]
    return [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []


CASES = [
    pytest.param(path, part, id=f"{path.stem}-{part}", marks=_marks(path.stem, part))
    for path in ALL
    for part in ("commands", "terraform")
]


@cache
def emitted(path: Path) -> dict[str, list[str]]:
    """The distinct commands and Terraform texts of one scenario's triage: every finding's remediation and
    every plan step."""
    result = run_cli("triage", "--scenario", str(path), "--format", "json")
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    commands: list[str] = []
    texts: list[str] = []
    sources = [f.get("remediation") or {} for f in report["findings"]] + list(report.get("plan") or [])
    for source in sources:
        commands.extend(source.get("commands") or [])
        text = source.get("terraform")
        texts.extend([text] if isinstance(text, str) else text or [])
    return {"commands": list(dict.fromkeys(commands)), "terraform": list(dict.fromkeys(texts))}


def test_the_pending_list_names_real_playbooks_and_scenarios() -> None:
    playbooks = {p.name for p in (SCENARIOS.parent / "playbooks").glob("*.yaml")}
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
