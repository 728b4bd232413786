"""The out-of-connections fix, sized from the instance: every database flag carried over, max_connections
never past Google's default for the memory, a larger custom tier when the flag cannot go up."""

from __future__ import annotations

from datetime import UTC, datetime

from infradiag.diagnose.engine import diagnose
from infradiag.diagnose.findings import Finding, Fix
from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbook
from infradiag.evidence import Evidence
from infradiag.evidence.sql import DatabaseFlag
from infradiag.fixes import Risk
from tests.diagnose.test_playbook import THRESHOLDS
from tests.evidence.network import sql_instance

PLAYBOOK = load_playbook(PLAYBOOK_DIR / "sql.yaml")


def _finding(**fields: object) -> Finding:
    """The one finding sql.yaml concludes on instance `db` (a 3.75 GB PostgreSQL instance unless `fields`
    say otherwise)."""
    defaults: dict[str, object] = {
        "tier": "db-custom-1-3840",
        "memory_gb": 3.75,
        "default_max_connections": 100,
    }
    db = sql_instance("db", "p1", "r1", **{**defaults, **fields})
    evidence = Evidence(project="p1", region="r1", now=datetime(2026, 9, 15, tzinfo=UTC), sql_instances=[db])
    (finding,) = diagnose(evidence, [PLAYBOOK], THRESHOLDS).findings
    return finding


def _fix(**fields: object) -> Fix:
    finding = _finding(**fields)
    assert finding.cause == "sql.max_connections_exhausted"
    return finding.remediation


def test_a_flag_below_the_default_is_raised_and_every_other_flag_kept() -> None:
    fix = _fix(
        max_connections=50,
        max_connections_source="flag",
        connections_max=49.0,
        database_flags=[
            DatabaseFlag(name="log_connections", value="on"),
            DatabaseFlag(name="max_connections", value="50"),
            DatabaseFlag(name="cloudsql.iam_authentication", value="on"),
        ],
    )
    assert fix.commands == [
        "gcloud sql instances patch db --project p1 "
        "--database-flags log_connections=on,max_connections=62,cloudsql.iam_authentication=on"
    ]
    assert fix.risks == [Risk.RESTARTS]
    assert fix.way_back is not None and "back to 50" in fix.way_back
    assert fix.summary == "Raise max_connections of db from 50 to 62"
    assert fix.terraform is not None and fix.terraform.count("database_flags {") == 3
    assert 'tier = "db-custom-1-3840"' in fix.terraform  # kept, named in the whole block


def test_at_the_default_for_its_memory_it_moves_to_a_larger_custom_tier() -> None:
    fix = _fix(max_connections=100, max_connections_source="tier default", connections_max=98.0)
    assert fix.commands == ["gcloud sql instances patch db --project p1 --tier db-custom-1-6144"]
    assert fix.risks == [Risk.RESTARTS, Risk.COSTS_MORE]
    assert fix.change is not None and [c.field for c in fix.change.changes] == ["settings.tier"]


def test_a_cpu_saturated_instance_gets_more_vcpus_and_keeps_its_flags_in_terraform() -> None:
    finding = _finding(
        tier="db-custom-2-7680",
        memory_gb=None,
        default_max_connections=None,
        cpu_max=0.97,
        database_flags=[DatabaseFlag(name="log_connections", value="on")],
    )
    fix = finding.remediation
    assert finding.cause == "sql.cpu_saturated"
    assert fix.commands == ["gcloud sql instances patch db --project p1 --tier db-custom-4-7680"]
    assert fix.risks == [Risk.RESTARTS, Risk.COSTS_MORE]
    assert fix.terraform is not None and 'name  = "log_connections"' in fix.terraform
