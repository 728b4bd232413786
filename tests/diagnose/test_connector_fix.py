"""The saturated connector's fix, sized from its evidence: only what changes, marked as only going up."""

from __future__ import annotations

from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.findings import Fix
from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbook
from infradiag.fixes import Risk
from tests.diagnose.test_playbook import THRESHOLDS, evidence

PLAYBOOK = load_playbook(PLAYBOOK_DIR / "vpc-connector-saturation.yaml")


def _fix(**connector: object) -> Fix:
    base = evidence(["a", "b", "c"], ["d"], cpu=0.97)
    sized = base.connectors[0].model_copy(update={"min_instances": 2, "network": "vpc1", **connector})
    (finding,) = diagnose(base.model_copy(update={"connectors": [sized]}), [PLAYBOOK], THRESHOLDS).findings
    return finding.remediation


def test_a_cpu_bound_connector_gets_more_instances_of_the_same_machine_type() -> None:
    fix = _fix(max_instances=3, machine_type="e2-micro")
    assert fix.commands == [
        "gcloud compute networks vpc-access connectors update c1 --region r1 --project p-123456 "
        "--min-instances 2 --max-instances 6"
    ]
    assert fix.change is not None and [c.field for c in fix.change.changes] == ["maxInstances"]
    assert fix.risks == [Risk.ONLY_UP_IN_PLACE, Risk.COSTS_MORE] and fix.way_back
    assert fix.summary == "Raise the capacity of VPC connector c1 to 6 x e2-micro"


def test_at_ten_instances_only_the_machine_type_changes() -> None:
    fix = _fix(max_instances=10, instances_max=10, machine_type="e2-micro")
    assert fix.commands[0].endswith("--project p-123456 --machine-type e2-standard-4")
    # A machine type can go back down in place: only the cost is at stake.
    assert fix.risks == [Risk.COSTS_MORE]
    assert fix.way_back == "set the machine type back with --machine-type e2-micro"
    assert "max_instances = 10\n" in (fix.terraform or "")  # kept, named in the whole block


def test_the_largest_connector_gets_advice_not_a_no_op() -> None:
    fix = _fix(max_instances=10, instances_max=10, machine_type="e2-standard-4")
    assert fix.commands == [] and fix.terraform is None and fix.change is None and fix.risks == []
    assert fix.summary.startswith("c1 is already the largest a connector can be (10 x e2-standard-4")
