"""A remediation declared as a typed change: checked at load with file and line, rendered by the engine into
the command and the Terraform block, and worded from its `unchanged` text when it would change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.playbook import load_playbook
from infradiag.errors import UsageError
from infradiag.evidence import ConnectorEvidence, Evidence
from infradiag.fixes import Risk

CONNECTOR = "projects/p1/locations/r1/connectors/c1"

PLAYBOOK = """id: x
title: t
for_each: connectors
as: connector
tree:
  question: q
  answer: a
  cause: vpc_connector.saturated
  title: t
  resource: connector.resource
  affected: '[]'
  priority: [{level: P1}]
  remediation:
    summary: "Raise {connector.name}"
    risks: [only_up_in_place, costs_more]
    way_back: "recreate {connector.name}"
    change:
      api: vpcaccess
      method: projects.locations.connectors.patch
      resource: connector.resource
      fields:
        maxInstances:
          current: connector.max_instances
          proposed: "10"
          why: "from {connector.max_instances}"
        minInstances: {current: connector.min_instances, proposed: connector.min_instances, why: kept}
      context:
        network: "'net'"
      unchanged: "{connector.name} is at 10 already"
"""


def _evidence(max_instances: int) -> Evidence:
    connector = ConnectorEvidence(
        name="c1",
        resource=CONNECTOR,
        region="r1",
        state="READY",
        min_instances=2,
        max_instances=max_instances,
    )
    return Evidence(project="p1", region="r1", now=datetime(2026, 9, 15, tzinfo=UTC), connectors=[connector])


def _load(tmp_path: Path, text: str = PLAYBOOK) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    return path


def test_the_change_is_rendered_from_the_evidence(tmp_path: Path) -> None:
    playbook = load_playbook(_load(tmp_path))
    (finding,) = diagnose(_evidence(3), [playbook], {}).findings
    fix = finding.remediation
    assert fix.summary == "Raise c1" and fix.risks == [Risk.ONLY_UP_IN_PLACE, Risk.COSTS_MORE]
    assert fix.way_back == "recreate c1"
    assert fix.commands == [
        "gcloud compute networks vpc-access connectors update c1 --region r1 --project p1 "
        "--min-instances 2 --max-instances 10"
    ]
    assert fix.terraform is not None and 'network       = "net"' in fix.terraform
    assert fix.change is not None and fix.change.body() == {"maxInstances": 10, "minInstances": 2}
    assert [(c.field, c.current, c.proposed, c.why) for c in fix.change.changes] == [
        ("maxInstances", 3, 10, "from 3")
    ]


def test_a_change_that_changes_nothing_says_so_and_applies_nothing(tmp_path: Path) -> None:
    playbook = load_playbook(_load(tmp_path))
    (finding,) = diagnose(_evidence(10), [playbook], {}).findings
    fix = finding.remediation
    assert (fix.summary, fix.commands, fix.terraform, fix.risks, fix.change) == (
        "c1 is at 10 already",
        [],
        None,
        [],
        None,
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("        maxInstances:\n", "        maxInstance:\n", 22, "cannot set maxInstance"),
        ("risks: [only_up_in_place, costs_more]", "risks: [only_up, costs_more]", 15, "only_up_in_place"),
        ('proposed: "10"', 'proposed: "10 +"', 24, "invalid CEL"),
        (
            "method: projects.locations.connectors.patch",
            "method: patch",
            19,
            "no renderer for vpcaccess patch",
        ),
        ("        network:", "        labels:", 28, "has no context labels"),
        ('    way_back: "recreate', '    terraform: "x"\n    way_back: "recreate', 13, "remove `terraform`"),
        ('    way_back: "recreate {connector.name}"\n', "", 13, "only_up_in_place need a `way_back`"),
    ],
)
def test_a_broken_change_names_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, fragment: str
) -> None:
    assert old in PLAYBOOK
    path = _load(tmp_path, PLAYBOOK.replace(old, new))
    with pytest.raises(UsageError) as caught:
        load_playbook(path)
    assert fragment in caught.value.one_line()
    assert caught.value.where == f"{path}:{line}"
