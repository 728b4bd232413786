"""The Cloud SQL scenarios triaged through the CLI: the fix printed follows why the instance is down (stopped,
suspended for billing or for its CMEK key, maintenance, a replica's primary), a replica's limit is its own,
and a private IP in Docker's default bridge is named with a fix that moves it.

`expect` blocks check cause, priority and resource; these check the text an operator would paste.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import SCENARIOS, run_cli

DB = "projects/acme-staging/instances/staging-db"
REPLICA = "projects/acme-staging/instances/staging-db-replica"


def triage(path: Path) -> dict[str, Any]:
    result = run_cli("triage", "--scenario", str(path), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def finding(report: dict[str, Any], cause: str, resource: str) -> dict[str, Any]:
    matches = [f for f in report["findings"] if f["cause"] == cause and resource in f["resources"]]
    assert len(matches) == 1, [(f["cause"], f["resources"]) for f in report["findings"]]
    return matches[0]


def every_command(report: dict[str, Any]) -> list[str]:
    """Every command of every finding and of the plan, as printed."""
    commands = [c for f in report["findings"] for c in f["remediation"]["commands"]]
    return commands + [c for step in report.get("plan", []) for c in step.get("commands", [])]


def evidence(found: dict[str, Any]) -> list[str]:
    return [e["detail"] for why in found["why"] for e in why["evidence"]]


def variant(tmp_path: Path, name: str, change: Any) -> Path:
    """A copy of scenarios/NAME.yaml changed by `change(data)`, written under tmp_path."""
    data = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    change(data)
    path = tmp_path / f"{name}-variant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_stopped_instance_is_started_with_its_activation_policy() -> None:
    found = finding(triage(SCENARIOS / "cause-sql-stopped.yaml"), "sql.instance_unavailable", DB)
    assert found["title"] == "Cloud SQL instance staging-db is stopped (activation policy NEVER)"
    assert found["remediation"]["commands"] == [
        "gcloud sql instances patch staging-db --project acme-staging --activation-policy ALWAYS"
    ]
    assert found["remediation"]["summary"].startswith("Start staging-db: set its activation policy")
    assert found["remediation"]["changes"][0] == {
        **found["remediation"]["changes"][0],
        "field": "settings.activationPolicy",
        "current": "NEVER",
        "proposed": "ALWAYS",
    }
    assert found["remediation"]["wayBack"] == "--activation-policy NEVER stops it again"
    assert "staging-db: state RUNNABLE, settings.activationPolicy NEVER" in evidence(found)


def test_a_billing_suspension_is_fixed_in_billing_never_by_patching_the_instance() -> None:
    report = triage(SCENARIOS / "cause-sql-suspended-billing.yaml")
    found = finding(report, "sql.instance_unavailable", DB)
    assert found["remediation"]["commands"] == ["gcloud billing projects describe acme-staging"]
    assert "Fix the billing of project acme-staging" in found["remediation"]["summary"]
    assert "staging-db: state SUSPENDED, suspensionReason BILLING_ISSUE" in evidence(found)
    assert not [c for c in every_command(report) if "--activation-policy" in c or "instances patch" in c]


def test_a_kms_suspension_points_at_the_key_version_and_the_service_agent() -> None:
    report = triage(SCENARIOS / "cause-sql-suspended-kms.yaml")
    found = finding(report, "sql.instance_unavailable", DB)
    key = "projects/acme-staging/locations/us-central1/keyRings/cloudsql/cryptoKeys/staging-db"
    commands = found["remediation"]["commands"]
    # --project is the key's own project, read from its name.
    assert f"gcloud kms keys versions enable {key}/cryptoKeyVersions/2 --project acme-staging" in commands
    assert f"gcloud kms keys versions restore {key}/cryptoKeyVersions/2 --project acme-staging" in commands
    grant = commands[-1]
    assert grant.startswith(f"gcloud kms keys add-iam-policy-binding {key} --project acme-staging ")
    assert "@gcp-sa-cloud-sql.iam.gserviceaccount.com" in grant
    assert grant.endswith("--role roles/cloudkms.cryptoKeyEncrypterDecrypter")
    assert not [c for c in every_command(report) if "--activation-policy" in c]


def test_maintenance_names_the_window_and_prints_no_start_command() -> None:
    report = triage(SCENARIOS / "cause-sql-instance-unavailable.yaml")
    found = finding(report, "sql.instance_unavailable", DB)
    assert found["title"] == "Cloud SQL instance staging-db is down for maintenance"
    assert "its window is Tuesday 23:00 UTC" in found["remediation"]["summary"]
    assert found["remediation"]["commands"] == [
        "gcloud sql operations list --instance staging-db --project acme-staging --limit 5"
    ]
    assert not [c for c in every_command(report) if "--activation-policy" in c]


def test_a_replica_is_named_as_such_and_limited_by_its_own_tier() -> None:
    report = triage(SCENARIOS / "cause-sql-replica-max-connections.yaml")
    found = finding(report, "sql.max_connections_exhausted", REPLICA)
    assert (
        "staging-db-replica: read replica of staging-db, tier db-custom-1-3840 (3.75 GB), "
        "max_connections 100 (tier default)"
    ) in evidence(found)
    # Its own 3.75 GB already gets Google's default of 100: the fix is a larger tier of its own, not more
    # connections than its memory holds (nor its primary's tier).
    assert found["remediation"]["commands"] == [
        "gcloud sql instances patch staging-db-replica --project acme-staging --tier db-custom-1-6144"
    ]
    assert not [f for f in report["findings"] if DB in f["resources"]]  # the primary (400) is not full


def test_a_replica_whose_primary_is_down_sends_the_operator_to_the_primary(tmp_path: Path) -> None:
    def suspend_the_project(data: dict[str, Any]) -> None:
        # A billing suspension takes every instance of the project, the replica with its primary.
        for instance in data["sql"]["instances"]:
            instance["state"] = "SUSPENDED"
            instance["suspensionReason"] = ["BILLING_ISSUE"]

    report = triage(variant(tmp_path, "cause-sql-replica-max-connections", suspend_the_project))
    replica = finding(report, "sql.instance_unavailable", REPLICA)
    assert replica["title"] == (
        "Cloud SQL read replica staging-db-replica is not available: its primary staging-db is down"
    )
    assert replica["remediation"]["summary"].startswith("Bring primary staging-db back first")
    primary = finding(report, "sql.instance_unavailable", DB)
    assert primary["remediation"]["commands"] == ["gcloud billing projects describe acme-staging"]
    assert not [c for c in every_command(report) if "--activation-policy" in c]


def test_a_private_ip_in_dockers_bridge_is_named_with_a_range_to_move_to() -> None:
    report = triage(SCENARIOS / "cause-sql-private-ip-docker-bridge.yaml")
    found = finding(report, "sql.private_ip_conflict", DB)
    assert found["priority"] == "P3"  # every probe passes: a latent trap
    assert found["affectedServices"] == []
    details = evidence(found)
    assert "staging-db: private IP 172.17.0.3 (ipAddresses type PRIVATE) on network staging-vpc" in details
    assert any("Docker's default bridge docker0" in d and "172.17.0.0/16" in d for d in details)
    commands = found["remediation"]["commands"]
    assert commands[1] == (
        "gcloud compute addresses create sql-psa-10-100 --global --purpose VPC_PEERING --addresses 10.100.0.0"
        " --prefix-length 16 --network staging-vpc --project acme-staging"
    )
    assert commands[2].startswith(
        "gcloud services vpc-peerings update --service servicenetworking.googleapis.com"
    )
    assert commands[2].endswith(',sql-psa-10-100"')
    assert commands[3] == (
        "gcloud alpha sql instances clone staging-db staging-db-10-100"
        " --allocated-ip-range-name sql-psa-10-100 --project acme-staging"
    )
    summary = found["remediation"]["summary"]
    assert "cannot be undone" in summary and "restart dockerd" in summary


def test_the_new_range_avoids_the_projects_subnets(tmp_path: Path) -> None:
    def take_10_100(data: dict[str, Any]) -> None:
        subnet = dict(data["compute"]["subnetworks"][0], name="batch", ipCidrRange="10.100.0.0/20", id="2099")
        subnet["selfLink"] = subnet["selfLink"].rsplit("/", 1)[0] + "/batch"
        data["compute"]["subnetworks"].append(subnet)

    report = triage(variant(tmp_path, "cause-sql-private-ip-docker-bridge", take_10_100))
    commands = finding(report, "sql.private_ip_conflict", DB)["remediation"]["commands"]
    assert "--addresses 10.101.0.0 --prefix-length 16" in commands[1]


def test_a_private_ip_conflict_is_p2_when_its_users_fail(tmp_path: Path) -> None:
    def fail_db_users(data: dict[str, Any]) -> None:
        down = {"status": 503, "delayMs": 20, "json": {"status": "unhealthy", "database": "timeout"}}
        for name in ("backend", "auth"):
            data["endpoints"][name] = {"*": down}

    report = triage(variant(tmp_path, "cause-sql-private-ip-docker-bridge", fail_db_users))
    assert finding(report, "sql.private_ip_conflict", DB)["priority"] == "P2"
