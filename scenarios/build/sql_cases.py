"""Writes the Cloud SQL cause scenarios: why an instance is not running (stopped; suspended for billing;
suspended because its CMEK key is unusable), a read replica at its own connection limit, and a private IP
inside Docker's default bridge.

Run from the repository root: `python scenarios/build/sql_cases.py` (rewrites the scenarios/cause-sql-*.yaml
named below; scenarios/build/causes.py writes the other cause-sql ones). Instances are written as Cloud SQL
Admin v1 returns them: https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from fleet import (
    DB,
    DB_RESOURCE,
    PROJECT,
    REGION,
    Fleet,
    Scenarios,
    cause,
    connection_series,
    expect_sql_unavailable,
    expectation,
    sql_database_resource,
)

SCENARIOS = Scenarios("scenarios/build/sql_cases.py")
scenario = SCENARIOS.add
# What staging-db's unavailability must not be taken for.
UNAVAILABLE_NOT = ["app.dependency_failing", "sql.private_ip_conflict"]
KEY = f"projects/{PROJECT}/locations/{REGION}/keyRings/cloudsql/cryptoKeys/staging-db"
REPLICA = f"{DB}-replica"


class SqlFleet(Fleet):
    """The fleet plus per-instance connection counts for instances other than staging-db (a replica's own
    cloudsql_database series, database_id "project:instance")."""

    def __init__(self, name: str, summary: str) -> None:
        super().__init__(name, summary)
        self.other_backends: dict[str, dict[str, int]] = {}  # instance -> database -> num_backends

    def series(self) -> list[dict[str, Any]]:
        series = super().series()
        for instance, databases in self.other_backends.items():
            series.extend(connection_series(sql_database_resource(instance), databases))
        return series


@scenario
def sql_stopped() -> Fleet:
    # Stopping an instance sets settings.activationPolicy to NEVER; its state stays RUNNABLE ("RUNNABLE: The
    # instance is running, or has been stopped by owner", SqlInstanceState in the v1 reference).
    f = SqlFleet(
        "cause-sql-stopped", "Someone stopped staging-db: activation policy NEVER, state still RUNNABLE"
    )
    f.sql[0]["settings"]["activationPolicy"] = "NEVER"
    expect_sql_unavailable(f, absent=UNAVAILABLE_NOT)
    return f


@scenario
def sql_suspended_billing() -> Fleet:
    f = SqlFleet(
        "cause-sql-suspended-billing", "Google suspended staging-db: the project's billing has an issue"
    )
    f.sql[0]["state"] = "SUSPENDED"
    f.sql[0]["suspensionReason"] = ["BILLING_ISSUE"]
    expect_sql_unavailable(f, absent=UNAVAILABLE_NOT)
    return f


@scenario
def sql_suspended_kms() -> Fleet:
    f = SqlFleet(
        "cause-sql-suspended-kms",
        "Google suspended staging-db: the version of its customer-managed key was disabled",
    )
    db = f.sql[0]
    db["state"] = "SUSPENDED"
    db["suspensionReason"] = ["KMS_KEY_ISSUE"]
    db["diskEncryptionConfiguration"] = {"kmsKeyName": KEY, "kind": "sql#diskEncryptionConfiguration"}
    db["diskEncryptionStatus"] = {
        "kmsKeyVersionName": f"{KEY}/cryptoKeyVersions/2",
        "kind": "sql#diskEncryptionStatus",
    }
    expect_sql_unavailable(f, absent=UNAVAILABLE_NOT)
    return f


@scenario
def sql_replica_connections() -> Fleet:
    # worker and admin read from a replica on a smaller tier (3.75 GB: 100 connections by default, where the
    # primary's 7.5 GB allows 400): the replica is full, the primary is not.
    f = SqlFleet(
        "cause-sql-replica-max-connections",
        "Read replica staging-db-replica is out of connections at its own tier's limit: 98 of 100",
    )
    f.sql[0]["replicaNames"] = [REPLICA]
    f.sql.append(
        {
            "kind": "sql#instance",
            "name": REPLICA,
            "project": PROJECT,
            "region": REGION,
            "databaseVersion": "POSTGRES_15",
            "state": "RUNNABLE",
            "connectionName": f"{PROJECT}:{REGION}:{REPLICA}",
            "backendType": "SECOND_GEN",
            "instanceType": "READ_REPLICA_INSTANCE",
            "masterInstanceName": f"{PROJECT}:{DB}",
            "gceZone": f"{REGION}-b",
            "replicaConfiguration": {"kind": "sql#replicaConfiguration", "failoverTarget": False},
            "settings": {
                "tier": "db-custom-1-3840",
                "activationPolicy": "ALWAYS",
                "availabilityType": "ZONAL",
                "dataDiskSizeGb": "100",
                "databaseFlags": [],
                "ipConfiguration": {
                    "ipv4Enabled": False,
                    "privateNetwork": f"projects/{PROJECT}/global/networks/staging-vpc",
                },
            },
            "ipAddresses": [{"type": "PRIVATE", "ipAddress": "10.20.0.5"}],
            "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{PROJECT}/instances/{REPLICA}",
        }
    )
    for name in ("worker", "admin"):
        f.services[name]["template"]["volumes"][0]["cloudSqlInstance"]["instances"] = [
            f"{PROJECT}:{REGION}:{REPLICA}"
        ]
    f.other_backends[REPLICA] = {"app": 80, "auth": 18}
    f.fail(
        ("worker", "admin"),
        {
            "status": 503,
            "delayMs": 50,
            "json": {"status": "unhealthy", "database": "FATAL: sorry, too many clients already"},
        },
    )
    f.expect = expectation(
        "degraded",
        cause("sql.max_connections_exhausted", "P1", f"projects/{PROJECT}/instances/{REPLICA}"),
        absent=["sql.instance_unavailable", "app.dependency_failing"],
    )
    return f


@scenario
def sql_private_ip_docker_bridge() -> Fleet:
    # gcpdiag's captured instances (test-data/cloudsql1) sit at 172.17.0.3 too: an automatically allocated
    # private services access range can land there.
    f = SqlFleet(
        "cause-sql-private-ip-docker-bridge",
        "staging-db's private IP 172.17.0.3 lies in Docker's default bridge; every probe still passes",
    )
    f.sql[0]["ipAddresses"] = [{"type": "PRIVATE", "ipAddress": "172.17.0.3"}]
    f.expect = expectation(
        "healthy", cause("sql.private_ip_conflict", "P3", DB_RESOURCE), none_at_or_above="P2"
    )
    return f


if __name__ == "__main__":
    SCENARIOS.main()
