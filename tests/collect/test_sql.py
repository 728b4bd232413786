"""Cloud SQL instances (sqladmin_v1beta4, parsed from REST JSON): engine, memory, connection limits,
replication, activation and suspension, read through the twin the way the collector reads them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.cloud import sqladmin_v1beta4

from infradiag.collect.sql import (
    default_max_connections,
    list_sql_instances,
    sql_instance_evidence,
    tier_memory_gb,
)
from infradiag.evidence import SqlInstanceEvidence
from tests.collect.fleet import PROJECT, sql
from tests.twin.rest_twin import rest_kwargs, scenario, serve


def _evidence(data: dict[str, Any]) -> SqlInstanceEvidence:
    """The evidence of instance `data` (REST JSON as the API returns it), parsed as the client parses it."""
    instance = sqladmin_v1beta4.DatabaseInstance.from_json(json.dumps(data), ignore_unknown_fields=True)
    return sql_instance_evidence(instance, PROJECT)


def _bare(name: str, region: str, version: str, tier: str) -> dict[str, Any]:
    """An instance of which the API gives only its name, region, version and tier."""
    return {"name": name, "region": region, "databaseVersion": version, "settings": {"tier": tier}}


@pytest.mark.parametrize(
    ("tier", "memory"),
    [
        ("db-f1-micro", 0.6),
        ("db-g1-small", 1.7),
        ("db-custom-1-3840", 3.75),
        ("db-custom-4-15360", 15.0),
        ("db-n1-standard-4", 15.0),
        ("db-n1-highmem-2", 13.0),
        ("db-perf-optimized-N-8", 64.0),
        ("db-unknown-tier", None),
    ],
)
def test_tier_memory(tier: str, memory: float | None) -> None:
    assert tier_memory_gb(tier) == memory


@pytest.mark.parametrize(
    ("memory", "limit"),
    [
        (0.6, 25),
        (1.7, 50),
        (3.75, 100),
        (5.9, 100),
        (6.0, 200),
        (7.5, 400),
        (15.0, 500),
        (64.0, 800),
        (624.0, 1000),
    ],
)
def test_postgres_default_max_connections_takes_the_largest_threshold_at_or_below_memory(
    memory: float, limit: int
) -> None:
    assert default_max_connections("POSTGRES", memory) == limit


def test_no_default_for_other_engines_or_unknown_memory() -> None:
    assert default_max_connections("MYSQL", 7.5) is None
    assert default_max_connections("POSTGRES", None) is None
    assert default_max_connections("POSTGRES", 0.5) is None


def test_postgres_instance_from_its_tier() -> None:
    main, _ = sql()["instances"]
    evidence = _evidence(main)
    assert (evidence.engine, evidence.database_version, evidence.state) == (
        "POSTGRES",
        "POSTGRES_15",
        "RUNNABLE",
    )
    assert (evidence.memory_gb, evidence.max_connections, evidence.max_connections_source) == (
        7.5,
        400,
        "tier default",
    )
    assert (evidence.private_ip, evidence.private_network, evidence.port) == (
        "10.30.0.3",
        "staging-vpc",
        5432,
    )
    assert evidence.resource == f"projects/{PROJECT}/instances/main-db"
    assert evidence.connection_name == f"{PROJECT}:us-central1:main-db"


def test_the_max_connections_flag_wins() -> None:
    _, mysql = sql()["instances"]
    evidence = _evidence(mysql)
    assert (evidence.engine, evidence.port, evidence.state) == ("MYSQL", 3306, "MAINTENANCE")
    assert (evidence.max_connections, evidence.max_connections_source) == (150, "flag")
    assert evidence.connection_name == f"{PROJECT}:us-central1:legacy-mysql"  # derived when not served
    assert evidence.private_ip is None and evidence.private_network is None


def test_every_database_flag_is_kept_as_the_api_gives_it() -> None:
    # A fix that patches flags must carry every one over (a patch of databaseFlags replaces them all).
    primary, _ = sql()["instances"]
    flags = [{"name": "log_connections", "value": "on"}, {"name": "max_connections", "value": "50"}]
    flags.append({"name": "skip_show_database"})  # a flag that takes no value
    evidence = _evidence({**primary, "settings": {**primary["settings"], "databaseFlags": flags}})
    assert [f.model_dump(exclude_none=True) for f in evidence.database_flags] == flags
    # The flag decides the limit; Google's default for the memory (7.5 GB: 400) is kept beside it.
    assert (evidence.max_connections, evidence.default_max_connections) == (50, 400)


def test_sql_server_port_and_no_default_limit() -> None:
    evidence = _evidence(_bare("mssql", "europe-west1", "SQLSERVER_2019_STANDARD", "db-custom-2-7680"))
    assert (evidence.engine, evidence.port, evidence.max_connections, evidence.max_connections_source) == (
        "SQLSERVER",
        1433,
        None,
        None,
    )


KEY = f"projects/{PROJECT}/locations/us-central1/keyRings/sql/cryptoKeys/staging-db"
# Written as Cloud SQL Admin v1 returns them (https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances).
PRIMARY = {
    "kind": "sql#instance",
    "name": "staging-db",
    "project": PROJECT,
    "region": "us-central1",
    "connectionName": f"{PROJECT}:us-central1:staging-db",
    "databaseVersion": "POSTGRES_15",
    "state": "SUSPENDED",
    "suspensionReason": ["KMS_KEY_ISSUE", "BILLING_ISSUE"],
    "instanceType": "CLOUD_SQL_INSTANCE",
    "replicaNames": ["staging-db-replica"],
    "diskEncryptionConfiguration": {"kmsKeyName": KEY, "kind": "sql#diskEncryptionConfiguration"},
    "diskEncryptionStatus": {
        "kmsKeyVersionName": f"{KEY}/cryptoKeyVersions/3",
        "kind": "sql#diskEncryptionStatus",
    },
    "scheduledMaintenance": {"startTime": "2026-09-20T03:00:00Z", "canDefer": True},
    "settings": {
        "tier": "db-custom-2-7680",
        "activationPolicy": "ALWAYS",
        "maintenanceWindow": {"day": 7, "hour": 3, "kind": "sql#maintenanceWindow"},
        "ipConfiguration": {
            "ipv4Enabled": False,
            "privateNetwork": f"projects/{PROJECT}/global/networks/staging-vpc",
            "allocatedIpRange": "google-managed-services-staging-vpc",
        },
    },
    "ipAddresses": [{"type": "PRIVATE", "ipAddress": "172.17.0.3"}],
}
REPLICA = {
    "kind": "sql#instance",
    "name": "staging-db-replica",
    "project": PROJECT,
    "region": "us-central1",
    "databaseVersion": "POSTGRES_15",
    "state": "RUNNABLE",  # stopped by its owner: still RUNNABLE, activationPolicy NEVER
    "instanceType": "READ_REPLICA_INSTANCE",
    "masterInstanceName": f"{PROJECT}:staging-db",
    "settings": {"tier": "db-custom-1-3840", "activationPolicy": "NEVER"},
}


def test_the_collector_reads_replication_activation_suspension_and_encryption_through_the_twin() -> None:
    with serve(scenario(sql={"instances": [PRIMARY, REPLICA]})) as twin:
        client = sqladmin_v1beta4.SqlInstancesServiceClient(**rest_kwargs(twin))
        primary, replica = list_sql_instances(client, PROJECT, 10.0)
    assert (primary.name, primary.state, primary.instance_type, primary.master_instance) == (
        "staging-db",
        "SUSPENDED",
        "CLOUD_SQL_INSTANCE",
        None,
    )
    assert primary.activation_policy == "ALWAYS"
    assert primary.suspension_reasons == ["KMS_KEY_ISSUE", "BILLING_ISSUE"]  # in the API's order
    assert (primary.kms_key, primary.kms_key_version) == (KEY, f"{KEY}/cryptoKeyVersions/3")
    assert (primary.maintenance_window, primary.scheduled_maintenance) == (
        "Sunday 03:00 UTC",
        "2026-09-20T03:00:00Z",
    )
    assert (primary.private_ip, primary.allocated_ip_range) == (
        "172.17.0.3",
        "google-managed-services-staging-vpc",
    )
    assert (replica.name, replica.state, replica.activation_policy) == (
        "staging-db-replica",
        "RUNNABLE",
        "NEVER",
    )
    assert (replica.instance_type, replica.master_instance) == ("READ_REPLICA_INSTANCE", "staging-db")
    assert replica.suspension_reasons == []
    # The replica's connection limit follows its own tier (3.75 GB -> 100), not its primary's (7.5 GB -> 400).
    assert (replica.tier, replica.memory_gb, replica.max_connections) == ("db-custom-1-3840", 3.75, 100)
    assert primary.max_connections == 400


def test_fields_the_api_left_out_are_none() -> None:
    evidence = _evidence(_bare("bare", "us-central1", "MYSQL_8_0", "db-f1-micro"))
    assert (evidence.instance_type, evidence.master_instance, evidence.activation_policy) == (
        None,
        None,
        None,
    )
    assert evidence.suspension_reasons == []
    assert (evidence.kms_key, evidence.maintenance_window, evidence.scheduled_maintenance) == (
        None,
        None,
        None,
    )


def test_a_short_master_instance_name_is_kept() -> None:
    # gcpdiag's captured replicas (test-data/cloudsql2) write masterInstanceName without the project.
    data = {**REPLICA, "masterInstanceName": "staging-db"}
    assert _evidence(data).master_instance == "staging-db"
