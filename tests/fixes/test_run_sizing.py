"""Max instances of a Cloud Run service at its limit: twice its current ones, bounded by the connection
headroom of the databases it reaches; rendered as a Cloud Run v2 services.patch."""

from __future__ import annotations

from typing import Any

from infradiag.fixes import FieldChange, build_change, gcloud_command, terraform_block, update_mask
from infradiag.fixes.sizing import run_max_instances_sizing
from tests.fixes import gcloud, terraform

SERVICE = {
    "name": "api",
    "resource": "projects/acme-staging/locations/us-central1/services/api",
    "max_instances": 10,
    "cloudsql_instances": ["acme-staging:us-central1:db"],
    "load": {"instances_active_max": 10.0},
}
CONNECTOR = "projects/acme-staging/locations/us-central1/connectors/conn"


def db(peak: float, limit: int = 100, **extra: Any) -> dict[str, Any]:
    return {
        "name": "db",
        "connection_name": "acme-staging:us-central1:db",
        "max_connections": limit,
        "connections_max": peak,
        **extra,
    }


def test_without_a_database_max_instances_double() -> None:
    sizing = run_max_instances_sizing({**SERVICE, "cloudsql_instances": []}, [db(50)], [], 0.8)
    assert sizing["proposed"] == 20
    assert "2 x 10 = 20" in sizing["why"]


def test_an_unset_limit_doubles_cloud_runs_default_not_proposes_it() -> None:
    sizing = run_max_instances_sizing(
        {**SERVICE, "max_instances": None, "cloudsql_instances": []}, [], [], 0.8
    )
    assert (sizing["current"], sizing["proposed"]) == (None, 200)
    assert "Cloud Run's default of 100" in sizing["why"]


def test_the_databases_connection_headroom_bounds_the_new_instances() -> None:
    # 5 connections per instance, 80 - 50 = 30 connections of room: 6 more instances, not 10.
    sizing = run_max_instances_sizing(SERVICE, [db(50)], [], 0.8)
    assert sizing["proposed"] == 16
    assert "room for 30 more connections" in sizing["why"] and "6 more instances" in sizing["why"]


def test_a_database_reached_over_the_connectors_network_counts_too() -> None:
    service = {**SERVICE, "cloudsql_instances": [], "connector": CONNECTOR}
    connectors = [{"resource": CONNECTOR, "network": "vpc"}]
    sizing = run_max_instances_sizing(
        service, [db(50, connection_name="x", private_network="vpc")], connectors, 0.8
    )
    assert sizing["proposed"] == 16


def test_a_database_without_room_keeps_the_limit_and_says_what_first() -> None:
    sizing = run_max_instances_sizing(SERVICE, [db(79)], [], 0.8)
    assert (sizing["proposed"], sizing["why"]) == (10, "unchanged")
    assert sizing["note"].startswith("Do not raise max instances of api yet: db has room for 1 more")
    assert "Give the database room first" in sizing["note"]


def test_the_patch_sends_only_max_instances_and_renders_as_the_tables_accept() -> None:
    change = build_change(
        "run",
        "projects.locations.services.patch",
        str(SERVICE["resource"]),
        [FieldChange(field="template.scaling.maxInstanceCount", current=10, proposed=16, why="w")],
        {},
        [],
    )
    assert change.body() == {"template": {"scaling": {"maxInstanceCount": 16}}}
    assert update_mask(change) == "template.scaling.maxInstanceCount"
    command = gcloud_command(change)
    assert command == (
        "gcloud run services update api --region us-central1 --project acme-staging --max-instances 16"
    )
    assert gcloud.problems(command, gcloud.load_table()) == []
    block = terraform_block(change)
    assert "max_instance_count = 16 # was 10" in block
    assert terraform.problems(block, terraform.load_table()) == []
