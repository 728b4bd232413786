"""Cloud SQL instances (sqladmin_v1beta4, parsed from REST JSON): engine, memory, connection limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.cloud import sqladmin_v1beta4

from infradiag.collect.sql import default_max_connections, sql_instance_evidence, tier_memory_gb
from tests.collect.fleet import PROJECT, sql


def _instance(data: dict[str, Any]) -> Any:
    return sqladmin_v1beta4.DatabaseInstance.from_json(json.dumps(data), ignore_unknown_fields=True)


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
    evidence = sql_instance_evidence(_instance(main), PROJECT)
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
    evidence = sql_instance_evidence(_instance(mysql), PROJECT)
    assert (evidence.engine, evidence.port, evidence.state) == ("MYSQL", 3306, "MAINTENANCE")
    assert (evidence.max_connections, evidence.max_connections_source) == (150, "flag")
    assert evidence.connection_name == f"{PROJECT}:us-central1:legacy-mysql"  # derived when not served
    assert evidence.private_ip is None and evidence.private_network is None


def test_sql_server_port_and_no_default_limit() -> None:
    data = {
        "name": "mssql",
        "region": "europe-west1",
        "databaseVersion": "SQLSERVER_2019_STANDARD",
        "settings": {"tier": "db-custom-2-7680"},
    }
    evidence = sql_instance_evidence(_instance(data), PROJECT)
    assert (evidence.engine, evidence.port, evidence.max_connections, evidence.max_connections_source) == (
        "SQLSERVER",
        1433,
        None,
        None,
    )
