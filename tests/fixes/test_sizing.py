"""Values sized from the evidence: a connector's machine type and instances, a database's max_connections."""

from __future__ import annotations

from typing import Any

from infradiag.fixes.sizing import (
    connector_ceiling_mbps,
    connector_sizing,
    custom_tier,
    max_connections_sizing,
    sql_cpu_sizing,
)

CONNECTOR = {"name": "staging-conn", "machine_type": "e2-micro", "min_instances": 2, "max_instances": 3}


def test_the_ceiling_is_the_documented_throughput_per_instance() -> None:
    assert connector_ceiling_mbps("f1-micro", 10) == 500.0
    assert connector_ceiling_mbps("e2-micro", 10) == 1000.0
    assert connector_ceiling_mbps("e2-standard-4", 10) == 16000.0
    assert connector_ceiling_mbps("n2-standard-8", 3) == 0.0


def test_a_cpu_bound_connector_gets_the_fewest_instances_that_halve_its_load() -> None:
    sizing = connector_sizing({**CONNECTOR, "cpu_p95": 0.97})  # 291 Mbps of 300: 582 needed
    assert (sizing["machine_type"], sizing["max_instances"]) == ("e2-micro", 6)
    assert "6 x e2-micro = 600 Mbps" in sizing["why_max_instances"]
    assert sizing["why_machine_type"] == "unchanged"


def test_more_throughput_than_a_machine_type_carries_moves_up_a_type() -> None:
    sizing = connector_sizing({**CONNECTOR, "throughput_mbps": 5000.0, "cpu_p95": 0.5})
    assert (sizing["machine_type"], sizing["max_instances"]) == ("e2-standard-4", 7)
    assert "1600 Mbps per instance instead of 100" in sizing["why_machine_type"]


def test_instances_never_go_down_nor_the_machine_type() -> None:
    sizing = connector_sizing(
        {**CONNECTOR, "machine_type": "e2-standard-4", "max_instances": 8, "cpu_p95": 0.2}
    )
    assert (sizing["machine_type"], sizing["max_instances"]) == ("e2-standard-4", 9)


def test_beyond_the_largest_connector_it_proposes_the_largest_and_says_so() -> None:
    sizing = connector_sizing({**CONNECTOR, "throughput_mbps": 20000.0})
    assert (sizing["machine_type"], sizing["max_instances"]) == ("e2-standard-4", 10)
    assert "Direct VPC egress" in sizing["why_max_instances"]


def test_the_largest_connector_is_left_as_it_is_with_a_note() -> None:
    largest = {**CONNECTOR, "machine_type": "e2-standard-4", "max_instances": 10, "cpu_p95": 0.99}
    sizing = connector_sizing(largest)
    assert (sizing["machine_type"], sizing["max_instances"]) == ("e2-standard-4", 10)
    assert sizing["note"].startswith(
        "staging-conn is already the largest a connector can be (10 x e2-standard-4"
    )


def test_without_load_evidence_max_instances_go_to_ten_first() -> None:
    assert connector_sizing(CONNECTOR)["max_instances"] == 10
    at_ten = connector_sizing({**CONNECTOR, "max_instances": 10})
    assert (at_ten["machine_type"], at_ten["max_instances"]) == ("e2-standard-4", 10)


DB: dict[str, Any] = {
    "name": "staging-db",
    "tier": "db-custom-1-3840",
    "memory_gb": 3.75,
    "engine": "POSTGRES",
    "default_max_connections": 100,
}


def test_a_flag_below_the_tier_default_goes_up_to_what_the_peak_needs() -> None:
    flags = [{"name": "log_connections", "value": "on"}, {"name": "max_connections", "value": "50"}]
    db = {**DB, "max_connections": 50, "max_connections_source": "flag", "connections_max": 49.0}
    sizing = max_connections_sizing({**db, "database_flags": flags}, 0.8)
    assert sizing["proposed"] == 62  # 49 / 0.8 = 61.25: the least count that keeps it under 80 %
    assert sizing["flags"] == [flags[0], {"name": "max_connections", "value": "62"}]  # the others kept


def test_a_peak_exactly_at_the_warning_share_gets_one_connection_more() -> None:
    # 40 of 50 is 80 %, which still reads as the finding (usage >= warning): 51 leaves it below.
    db = {**DB, "max_connections": 45, "max_connections_source": "flag", "connections_max": 40.0}
    assert max_connections_sizing({**db, "database_flags": []}, 0.8)["proposed"] == 51


def test_the_proposal_is_capped_at_the_default_for_the_memory() -> None:
    db = {**DB, "max_connections": 50, "max_connections_source": "flag", "connections_max": 95.0}
    assert max_connections_sizing({**db, "database_flags": []}, 0.8)["proposed"] == 100


def test_at_the_default_for_its_memory_it_moves_to_a_tier_whose_default_fits() -> None:
    db = {**DB, "max_connections": 100, "max_connections_source": "tier default", "connections_max": 98.0}
    sizing = max_connections_sizing({**db, "database_flags": [{"name": "work_mem", "value": "4096"}]}, 0.8)
    assert (sizing["proposed"], sizing["tier"]) == (100, "db-custom-1-6144")  # 123 needs 6 GB: default 200
    assert sizing["flags"] == [{"name": "work_mem", "value": "4096"}]  # no flag change
    assert sizing["summary"].startswith("Move staging-db to tier db-custom-1-6144 (6 GB")


def test_a_flag_at_the_default_rises_with_the_tier() -> None:
    flags = [{"name": "max_connections", "value": "400"}]
    db = {**DB, "tier": "db-custom-2-7680", "memory_gb": 7.5, "default_max_connections": 400}
    sizing = max_connections_sizing(
        {
            **db,
            "max_connections": 400,
            "max_connections_source": "flag",
            "connections_max": 398.0,
            "database_flags": flags,
        },
        0.8,
    )
    # 498 needed: 15 GB (default 500); 15 GB on 2 vCPUs is 7.5 GB per vCPU, past 6.5: 4 vCPUs.
    assert sizing["tier"] == "db-custom-4-15360"
    assert sizing["flags"] == [{"name": "max_connections", "value": "498"}]


def test_a_tier_that_is_not_custom_is_named_by_the_memory_it_needs() -> None:
    db = {**DB, "tier": "db-n1-standard-1", "max_connections": 100, "connections_max": 98.0}
    sizing = max_connections_sizing({**db, "max_connections_source": "tier default"}, 0.8)
    assert sizing["tier"] == "db-n1-standard-1" and sizing["proposed"] == 100
    assert "a tier with at least 6 GB, whose default is 200" in sizing["note"]


def test_custom_tiers_keep_to_what_cloud_sql_allows() -> None:
    assert custom_tier("db-custom-1-3840", 6.0) == "db-custom-1-6144"
    assert custom_tier("db-custom-1-3840", 15.0) == "db-custom-4-15360"  # 1 -> 2 -> 4 vCPUs
    assert custom_tier("db-custom-8-30720", 60.0) == "db-custom-10-61440"
    assert custom_tier("db-custom-16-16384", 30.0) == "db-custom-16-30720"
    assert custom_tier("db-n1-standard-2", 15.0) is None


def test_without_a_documented_default_it_says_what_to_look_up() -> None:
    db = {
        **DB,
        "engine": "MYSQL",
        "default_max_connections": None,
        "max_connections": 100,
        "connections_max": 99.0,
    }
    sizing = max_connections_sizing(db, 0.8)
    assert sizing["proposed"] == 100 and sizing["note"].startswith("look up the max_connections")


def test_a_cpu_bound_instance_gets_the_vcpus_that_halve_its_peak() -> None:
    sizing = sql_cpu_sizing({"name": "db", "tier": "db-custom-2-7680", "cpu_max": 0.97})
    assert sizing["tier"] == "db-custom-4-7680"  # 1.94 vCPUs busy: 4 at 48 %, the memory kept
    assert "memory kept at 7680 MB" in sizing["why"]


def test_more_vcpus_raise_the_memory_only_to_what_they_take() -> None:
    sizing = sql_cpu_sizing({"name": "db", "tier": "db-custom-1-3840", "cpu_max": 1.0})
    assert sizing["tier"] == "db-custom-2-3840"
    busy = sql_cpu_sizing({"name": "db", "tier": "db-custom-4-3840", "cpu_max": 1.0})
    assert busy["tier"] == "db-custom-8-7424"  # 8 x 0.9 GB = 7.2 GB, in 256 MB steps


def test_a_tier_that_is_not_custom_says_what_to_look_for() -> None:
    sizing = sql_cpu_sizing({"name": "db", "tier": "db-n1-standard-2", "cpu_max": 0.95})
    assert sizing["tier"] == "db-n1-standard-2"
    assert "at least 1.9 times its vCPUs" in sizing["note"]


def test_a_peak_exactly_at_the_warning_share_of_the_proposal_is_sized_past_it() -> None:
    """The playbook holds an instance at or over the share: 400 of 500 is 80 %, so 500 would not clear it."""
    db = {**DB, "max_connections": 100, "max_connections_source": "flag", "connections_max": 400.0}
    sizing = max_connections_sizing({**db, "default_max_connections": 1000, "database_flags": []}, 0.8)
    assert sizing["proposed"] == 501
    assert 400 / sizing["proposed"] < 0.8
