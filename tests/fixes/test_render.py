"""Changes and their renderings: only what changes is sent, the gcloud command is complete and its flags are
gcloud's own, the Terraform block is HCL that `terraform fmt` leaves as it is."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest

from infradiag.fixes import (
    Change,
    FieldChange,
    Risk,
    build_change,
    gcloud_command,
    terraform_block,
    update_mask,
)
from tests.fixes import gcloud, terraform

CONNECTOR = "projects/acme-staging/locations/us-central1/connectors/staging-conn"
INSTANCE = "projects/acme-staging/instances/staging-db"
GCLOUD_CLI = Path("/usr/lib/google-cloud-sdk/data/cli")
# Plain values: strings without their quotes, blocks as dicts in lists (as tests/terraform reads .tf files).
PLAIN = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, preserve_heredocs=False, with_comments=False
)


def _resource(block: str, kind: str, name: str) -> dict[str, Any]:
    parsed: dict[str, Any] = hcl2.loads(block, serialization_options=PLAIN)["resource"][0][kind][name]
    return parsed


def _connector(max_to: int, machine_to: str = "e2-micro", **context: Any) -> Change:
    return build_change(
        "vpcaccess",
        "projects.locations.connectors.patch",
        CONNECTOR,
        [
            FieldChange(field="maxInstances", current=3, proposed=max_to, why="load"),
            FieldChange(field="minInstances", current=2, proposed=2, why="unchanged"),
            FieldChange(field="machineType", current="e2-micro", proposed=machine_to, why="load"),
        ],
        {"network": "staging-vpc", "ipCidrRange": "10.8.0.0/28", **context},
        [Risk.ONLY_UP_IN_PLACE, Risk.COSTS_MORE],
    )


FLAGS = [{"name": "log_connections", "value": "on"}, {"name": "max_connections", "value": "50"}]


def _flags(proposed: list[dict[str, Any]]) -> Change:
    return build_change(
        "sqladmin",
        "instances.patch",
        INSTANCE,
        [FieldChange(field="settings.databaseFlags", current=FLAGS, proposed=proposed, why="peak")],
        {"region": "us-central1", "databaseVersion": "POSTGRES_15", "settings.tier": "db-custom-1-3840"},
        [Risk.RESTARTS],
    )


def test_only_changed_fields_are_sent_and_min_instances_goes_with_max() -> None:
    change = _connector(6)
    assert [c.field for c in change.changes] == ["maxInstances"]  # the machine type stays: not sent
    assert change.body() == {"maxInstances": 6, "minInstances": 2}
    assert update_mask(change) == "maxInstances,minInstances"
    assert gcloud_command(change) == (
        "gcloud compute networks vpc-access connectors update staging-conn --region us-central1 "
        "--project acme-staging --min-instances 2 --max-instances 6"
    )


def test_a_machine_type_alone_sends_no_instances() -> None:
    change = build_change(
        "vpcaccess",
        "projects.locations.connectors.patch",
        CONNECTOR,
        [
            FieldChange(field="maxInstances", current=10, proposed=10, why=""),
            FieldChange(field="machineType", current="e2-micro", proposed="e2-standard-4", why="load"),
        ],
        {},
        [],
    )
    assert change.body() == {"machineType": "e2-standard-4"}
    assert gcloud_command(change).endswith("--project acme-staging --machine-type e2-standard-4")


def test_a_change_that_changes_nothing_renders_nothing() -> None:
    change = build_change(
        "vpcaccess",
        "projects.locations.connectors.patch",
        CONNECTOR,
        [FieldChange(field="maxInstances", current=10, proposed=10, why="")],
        {},
        [],
    )
    assert change.empty and gcloud_command(change) == "" and terraform_block(change) == ""


def test_the_connector_block_is_complete_hcl_with_what_changed_marked() -> None:
    block = terraform_block(_connector(6, "e2-standard-4"))
    parsed = _resource(block, "google_vpc_access_connector", "staging_conn")
    assert {k: parsed[k] for k in ("name", "project", "region", "network", "ip_cidr_range")} == {
        "name": "staging-conn",
        "project": "acme-staging",
        "region": "us-central1",
        "network": "staging-vpc",
        "ip_cidr_range": "10.8.0.0/28",
    }
    assert (parsed["machine_type"], parsed["min_instances"], parsed["max_instances"]) == (
        "e2-standard-4",
        2,
        6,
    )
    assert "max_instances = 6 # was 3" in block


def test_a_connector_on_a_subnet_names_the_subnet_not_a_range() -> None:
    block = terraform_block(
        build_change(
            "vpcaccess",
            "projects.locations.connectors.patch",
            CONNECTOR,
            [FieldChange(field="maxInstances", current=3, proposed=4, why="")],
            {"subnet.name": "conn-subnet", "network": None},
            [],
        )
    )
    parsed = _resource(block, "google_vpc_access_connector", "staging_conn")
    assert parsed["subnet"] == [{"name": "conn-subnet"}] and "ip_cidr_range" not in parsed


def test_database_flags_are_carried_over_whole() -> None:
    change = _flags([FLAGS[0], {"name": "max_connections", "value": "62"}])
    assert change.body() == {
        "settings": {"databaseFlags": [FLAGS[0], {"name": "max_connections", "value": "62"}]}
    }
    assert update_mask(change) is None  # instances.patch takes no updateMask
    command = gcloud_command(change)
    assert command == (
        "gcloud sql instances patch staging-db --project acme-staging "
        "--database-flags log_connections=on,max_connections=62"
    )
    parsed = _resource(terraform_block(change), "google_sql_database_instance", "staging_db")
    assert parsed["database_version"] == "POSTGRES_15"
    assert parsed["settings"][0]["tier"] == "db-custom-1-3840"
    assert parsed["settings"][0]["database_flags"] == [
        {"name": "log_connections", "value": "on"},
        {"name": "max_connections", "value": "62"},
    ]


def test_a_flag_value_with_a_comma_or_a_quote_survives_the_shell_and_gcloud() -> None:
    tricky = [{"name": "search_path", "value": "a,b"}, {"name": "x", "value": "it's"}]
    command = gcloud_command(_flags(tricky))
    argument = shlex.split(command)[-1]  # what gcloud receives
    assert argument == "^:^search_path=a,b:x=it's"
    block = terraform_block(_flags([{"name": "x", "value": 'a"${b}'}]))
    flags = _resource(block, "google_sql_database_instance", "staging_db")["settings"][0]["database_flags"]
    # python-hcl2 keeps HCL's escape of a literal ${ ($${) in the text it returns.
    assert flags == [{"name": "x", "value": 'a"$${b}'}]


def test_unknown_methods_and_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="no renderer for run projects"):
        build_change("run", "projects.locations.jobs.patch", CONNECTOR, [], {}, [])
    with pytest.raises(ValueError, match="cannot set ipCidrRange"):
        build_change(
            "vpcaccess",
            "projects.locations.connectors.patch",
            CONNECTOR,
            [FieldChange(field="ipCidrRange", current="a", proposed="b", why="")],
            {},
            [],
        )
    with pytest.raises(ValueError, match="is not a resource of sqladmin"):
        build_change("sqladmin", "instances.patch", CONNECTOR, [], {}, [])


@pytest.mark.skipif(not GCLOUD_CLI.is_dir(), reason="no local gcloud command tree")
@pytest.mark.parametrize(
    "change", [_connector(6, "e2-standard-4"), _flags([{"name": "max_connections", "value": "62"}])]
)
def test_every_flag_is_one_the_installed_gcloud_knows(change: Change) -> None:
    sys.path.insert(0, str(GCLOUD_CLI))
    try:
        import gcloud_completions  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(GCLOUD_CLI))
    tree = gcloud_completions.STATIC_COMPLETION_CLI_TREE
    words = shlex.split(gcloud_command(change))
    node = tree
    for word in words[1:]:
        if word in node.get("commands", {}):
            node = node["commands"][word]
        else:
            break
    flags = [w for w in words if w.startswith("--")]
    assert flags and all(f in node["flags"] or f in tree["flags"] for f in flags), flags


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
@pytest.mark.parametrize(
    "change", [_connector(6, "e2-standard-4"), _flags([FLAGS[0], {"name": "max_connections", "value": "62"}])]
)
def test_terraform_fmt_leaves_the_block_as_it_is(change: Change) -> None:
    block = terraform_block(change) + "\n"
    formatted = subprocess.run(
        ["terraform", "fmt", "-"], input=block, capture_output=True, text=True, check=True
    ).stdout
    assert formatted == block


@pytest.mark.parametrize(
    "change",
    [
        _connector(6),
        _connector(6, "e2-standard-4"),
        _flags([FLAGS[0], {"name": "max_connections", "value": "62"}]),
        _flags([]),
    ],
)
def test_the_renderings_pass_the_gcloud_and_terraform_tables(change: Change) -> None:
    assert gcloud.problems(gcloud_command(change), gcloud.load_table()) == []
    assert terraform.problems(terraform_block(change), terraform.load_table()) == []
