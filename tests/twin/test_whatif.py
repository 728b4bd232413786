"""What-if mode (infradiag/twin/whatif.py): a fix's request applied to a copy of a bundled scenario as
Google's API applies it, and the capacity model (whatif_capacity.py) projecting the resource's series at the
same load.
"""

from __future__ import annotations

from typing import Any

import pytest

from infradiag.evidence.metrics import CONNECTOR_CPU, CONNECTOR_INSTANCES, SQL_CPU, SQL_UP
from infradiag.twin.scenario import Scenario, load_scenario
from infradiag.twin.server import Twin
from infradiag.twin.timeseries.values import distribution_percentile, parse_value
from infradiag.twin.whatif import Applied, CannotApply, Request, apply_request, merge_patch
from infradiag.twin.whatif_capacity import tier_vcpus
from tests.conftest import SCENARIOS
from tests.twin.rest_twin import rest_kwargs

CONNECTOR = "projects/acme-staging/locations/us-central1/connectors/staging-conn"
DB = "projects/acme-staging/instances/staging-db"


@pytest.fixture(scope="module")
def saturated() -> Scenario:
    """staging-conn: 3 x e2-micro (300 Mbps), minThroughput 200, maxThroughput 300, CPU at 0.97."""
    return load_scenario(SCENARIOS / "staging-vpc-connector-saturation.yaml")


@pytest.fixture(scope="module")
def cpu_bound() -> Scenario:
    """staging-db: db-custom-2-7680, CPU at 0.97, no database flags."""
    return load_scenario(SCENARIOS / "cause-sql-cpu-saturated.yaml")


@pytest.fixture(scope="module")
def stopped() -> Scenario:
    """staging-db: RUNNABLE with activationPolicy NEVER, database/up 0."""
    return load_scenario(SCENARIOS / "cause-sql-stopped.yaml")


def applied(scenario: Scenario, request: Request) -> Scenario:
    result = apply_request(scenario, request)
    assert isinstance(result, Applied), result
    return result.scenario


def connector_patch(body: dict[str, Any], mask: str) -> Request:
    return Request("vpcaccess", "projects.locations.connectors.patch", CONNECTOR, body, mask)


def sql_patch(body: dict[str, Any]) -> Request:
    return Request("sqladmin", "instances.patch", DB, body)


def series_of(scenario: Scenario, metric: str, resource_type: str) -> list[dict[str, Any]]:
    return [
        s
        for s in scenario.monitoring.timeSeries
        if s["metric"]["type"] == metric and s["resource"]["type"] == resource_type
    ]


# --- PATCH semantics -------------------------------------------------------------------------------------


def test_an_update_mask_replaces_only_the_masked_fields_and_clears_a_masked_field_missing_from_the_body(
    saturated: Scenario,
) -> None:
    # AIP-134 (https://google.aip.dev/134): fields outside the mask are untouched even when the body has
    # them; a field in the mask that the body lacks is cleared.
    request = connector_patch(
        {"maxInstances": 10, "machineType": "e2-standard-4"}, "maxInstances,minInstances"
    )
    connector = applied(saturated, request).vpcaccess.connectors[0]
    assert connector["maxInstances"] == 10
    assert connector["machineType"] == "e2-micro"  # in the body, not in the mask
    assert "minInstances" not in connector  # in the mask, not in the body
    assert connector["ipCidrRange"] == "10.8.0.0/28"


def test_a_patch_leaves_the_loaded_scenario_as_it_was(saturated: Scenario) -> None:
    applied(saturated, connector_patch({"maxInstances": 10, "minInstances": 2}, "maxInstances,minInstances"))
    assert saturated.vpcaccess.connectors[0]["maxInstances"] == 3
    cpu = series_of(saturated, CONNECTOR_CPU, "vpc_access_connector")[0]
    assert cpu["points"][0]["value"]["distributionValue"]["mean"] == pytest.approx(0.9717)


def test_a_patch_without_mask_merges_objects_and_replaces_a_list_whole(cpu_bound: Scenario) -> None:
    # Cloud SQL instances.patch "merges the request with the current configuration"; a list such as
    # settings.databaseFlags is replaced, not appended to (gcloud sql instances patch --database-flags: "will
    # replace all existing flags").
    with_flags = applied(
        cpu_bound,
        sql_patch(
            {"settings": {"databaseFlags": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}}
        ),
    )
    settings = applied(
        with_flags, sql_patch({"settings": {"databaseFlags": [{"name": "max_connections", "value": "200"}]}})
    ).sql.instances[0]["settings"]
    assert settings["databaseFlags"] == [{"name": "max_connections", "value": "200"}]
    assert settings["tier"] == "db-custom-2-7680"  # a sibling of the patched field, kept


def test_merge_patch_follows_rfc_7396() -> None:
    current = {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": "x"}
    assert merge_patch(current, {"a": {"b": 5}, "d": [3], "e": None}) == {"a": {"b": 5, "c": 2}, "d": [3]}
    assert current == {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": "x"}


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (
            Request("sqladmin", "instances.patch", "projects/acme-staging/instances/nowhere", {"x": 1}),
            "projects/acme-staging/instances/nowhere is not in the scenario's sql.instances",
        ),
        (Request("sqladmin", "instances.delete", DB, {}), "not sqladmin instances.delete"),
        (
            Request("redis", "projects.locations.instances.patch", "x", {}),
            "the twin holds no redis instances",
        ),
    ],
)
def test_what_cannot_be_applied_says_why(stopped: Scenario, request_: Request, why: str) -> None:
    result = apply_request(stopped, request_)
    assert isinstance(result, CannotApply)
    assert why in result.why


# --- Google's documented side effects ----------------------------------------------------------------------


def test_activation_policy_always_starts_a_stopped_instance(stopped: Scenario) -> None:
    instance = stopped.sql.instances[0]
    assert instance["settings"]["activationPolicy"] == "NEVER"
    result = apply_request(stopped, sql_patch({"settings": {"activationPolicy": "ALWAYS"}}))
    assert isinstance(result, Applied)
    started = result.scenario.sql.instances[0]
    assert started["settings"]["activationPolicy"] == "ALWAYS"
    assert started["settings"]["tier"] == instance["settings"]["tier"]
    assert started["state"] == "RUNNABLE"
    # It is up once started: database/up reads 1 where it read 0.
    before = [p["value"] for s in series_of(stopped, SQL_UP, "cloudsql_database") for p in s["points"]]
    after = [p["value"] for s in series_of(result.scenario, SQL_UP, "cloudsql_database") for p in s["points"]]
    assert {"int64Value": "0"} in before
    assert after and all(v == {"int64Value": "1"} for v in after)


def test_a_state_stopped_instance_becomes_runnable(stopped: Scenario) -> None:
    copy = stopped.model_copy(deep=True)
    copy.sql.instances[0]["state"] = "STOPPED"
    assert applied(copy, sql_patch({"settings": {"activationPolicy": "ALWAYS"}})).sql.instances[0][
        "state"
    ] == ("RUNNABLE")


def test_a_suspended_instance_stays_suspended(stopped: Scenario) -> None:
    copy = stopped.model_copy(deep=True)
    copy.sql.instances[0]["state"] = "SUSPENDED"
    after = applied(copy, sql_patch({"settings": {"activationPolicy": "ALWAYS"}}))
    assert after.sql.instances[0]["state"] == "SUSPENDED"
    assert series_of(after, SQL_UP, "cloudsql_database") == series_of(copy, SQL_UP, "cloudsql_database")


def test_a_connectors_throughput_follows_its_instances(saturated: Scenario) -> None:
    connector = applied(
        saturated, connector_patch({"maxInstances": 10, "minInstances": 2}, "maxInstances,minInstances")
    ).vpcaccess.connectors[0]
    assert (connector["minThroughput"], connector["maxThroughput"]) == (200, 1000)


# --- the capacity model ------------------------------------------------------------------------------------


def _p95(series: dict[str, Any]) -> float:
    values = [parse_value(p["value"], "DISTRIBUTION", "test") for p in series["points"]]
    return max(distribution_percentile(v, 95.0) or 0.0 for v in values)  # type: ignore[arg-type]


def test_connector_cpu_is_scaled_by_old_capacity_over_new(saturated: Scenario) -> None:
    # 3 x e2-micro (300 Mbps) -> 10 x e2-micro (1000 Mbps): the same load at 0.3 of the utilisation.
    after = applied(
        saturated, connector_patch({"maxInstances": 10, "minInstances": 2}, "maxInstances,minInstances")
    )
    old = series_of(saturated, CONNECTOR_CPU, "vpc_access_connector")[0]
    new = series_of(after, CONNECTOR_CPU, "vpc_access_connector")[0]
    assert _p95(new) == pytest.approx(_p95(old) * 0.3)
    old_mean = old["points"][0]["value"]["distributionValue"]["mean"]
    assert new["points"][0]["value"]["distributionValue"]["mean"] == pytest.approx(old_mean * 0.3)
    # The same instances carry the same load: 3, now under maxInstances 10.
    counts = {
        p["value"]["int64Value"]
        for s in series_of(after, CONNECTOR_INSTANCES, "vpc_access_connector")
        for p in s["points"]
    }
    assert counts <= {"2", "3"} and "3" in counts


def test_a_larger_machine_type_needs_fewer_instances_within_min_and_max(saturated: Scenario) -> None:
    # e2-micro 100 Mbps -> e2-standard-4 1600 Mbps per instance: 3 instances' load fits one, but
    # minInstances 2 keeps two running; CPU x 300 / 4800.
    after = applied(
        saturated,
        connector_patch(
            {"maxInstances": 3, "minInstances": 2, "machineType": "e2-standard-4"},
            "machineType,maxInstances,minInstances",
        ),
    )
    counts = {
        p["value"]["int64Value"]
        for s in series_of(after, CONNECTOR_INSTANCES, "vpc_access_connector")
        for p in s["points"]
    }
    assert counts == {"2"}
    old = series_of(saturated, CONNECTOR_CPU, "vpc_access_connector")[0]
    new = series_of(after, CONNECTOR_CPU, "vpc_access_connector")[0]
    assert _p95(new) == pytest.approx(_p95(old) * 300 / 4800)


def test_sql_cpu_is_scaled_by_the_vcpu_ratio_and_other_series_kept(cpu_bound: Scenario) -> None:
    after = applied(cpu_bound, sql_patch({"settings": {"tier": "db-custom-4-15360"}}))
    old = [
        p["value"]["doubleValue"]
        for s in series_of(cpu_bound, SQL_CPU, "cloudsql_database")
        for p in s["points"]
    ]
    new = [
        p["value"]["doubleValue"] for s in series_of(after, SQL_CPU, "cloudsql_database") for p in s["points"]
    ]
    assert new == pytest.approx([v * 2 / 4 for v in old])
    assert [s for s in after.monitoring.timeSeries if s["metric"]["type"] != SQL_CPU] == [
        s for s in cpu_bound.monitoring.timeSeries if s["metric"]["type"] != SQL_CPU
    ]


def test_a_tier_without_a_known_vcpu_count_cannot_be_projected(cpu_bound: Scenario) -> None:
    result = apply_request(cpu_bound, sql_patch({"settings": {"tier": "db-g1-small"}}))
    assert isinstance(result, CannotApply)
    assert "no vCPU count for tier db-g1-small" in result.why


@pytest.mark.parametrize(
    ("tier", "vcpus"),
    [("db-custom-4-15360", 4), ("db-n1-highmem-8", 8), ("db-perf-optimized-N-16", 16), ("db-f1-micro", None)],
)
def test_tier_vcpus_reads_the_tier_name(tier: str, vcpus: int | None) -> None:
    assert tier_vcpus(tier) == vcpus


# --- served by the twin ------------------------------------------------------------------------------------


def test_the_twin_serves_the_changed_connector_to_the_official_client(saturated: Scenario) -> None:
    from google.cloud import vpcaccess_v1

    after = applied(
        saturated, connector_patch({"maxInstances": 10, "minInstances": 2}, "maxInstances,minInstances")
    )
    with Twin(after) as twin:
        connector = vpcaccess_v1.VpcAccessServiceClient(**rest_kwargs(twin)).get_connector(name=CONNECTOR)
    assert (connector.max_instances, connector.max_throughput) == (10, 1000)


WEBSOCKET = "projects/acme-staging/locations/us-central1/services/websocket"


def run_max_instances(count: int) -> Request:
    body = {"template": {"scaling": {"maxInstanceCount": count}}}
    mask = "template.scaling.maxInstanceCount"
    return Request("run", "projects.locations.services.patch", WEBSOCKET, body, mask)


@pytest.fixture(scope="module")
def at_max() -> Scenario:
    """websocket: maxInstanceCount 10, 10 active instances at peak, every path answering Cloud Run's 429."""
    return load_scenario(SCENARIOS / "cause-run-max-instances-reached.yaml")


def test_more_instances_than_the_observed_peak_stop_cloud_runs_429(at_max: Scenario) -> None:
    result = apply_request(at_max, run_max_instances(20))
    assert isinstance(result, Applied)
    assert at_max.endpoints["websocket"]["*"].status == 429
    assert result.scenario.endpoints["websocket"]["*"].status == 200
    assert result.scenario.endpoints["backend"] == at_max.endpoints["backend"]
    assert any("above its observed peak of 10 active" in note for note in result.notes)
    service = next(s for s in result.scenario.run.services if s["name"] == WEBSOCKET)
    assert service["template"]["scaling"]["maxInstanceCount"] == 20


def test_no_more_instances_than_the_observed_peak_change_nothing_served(at_max: Scenario) -> None:
    after = applied(at_max, run_max_instances(10 - 1))
    assert after.endpoints == at_max.endpoints


def test_without_an_instance_count_the_run_capacity_cannot_be_projected(at_max: Scenario) -> None:
    copy = at_max.model_copy(deep=True)
    copy.monitoring.timeSeries = [
        s
        for s in copy.monitoring.timeSeries
        if s["metric"]["type"] != "run.googleapis.com/container/instance_count"
    ]
    result = apply_request(copy, run_max_instances(20))
    assert isinstance(result, CannotApply)
    assert "no active instance count of websocket was observed" in result.why


# --- Compute insert and setIamPolicy -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def firewalled() -> Scenario:
    """staging-vpc: deny-egress-private (EGRESS, priority 900) blocks the connector's traffic."""
    return load_scenario(SCENARIOS / "cause-vpc-connector-firewall-blocked.yaml")


def test_a_firewall_insert_adds_the_rule_with_computes_defaults(firewalled: Scenario) -> None:
    from infradiag.commands.verify import rejected_by_google

    network = "https://www.googleapis.com/compute/v1/projects/acme-staging/global/networks/staging-vpc"
    body = {"name": "allow-connector-egress", "network": network, "allowed": [{"IPProtocol": "tcp"}]}
    request = Request("compute", "firewalls.insert", "projects/acme-staging/global/firewalls", body)
    after = applied(firewalled, request)
    rule = after.compute.firewalls[-1]
    assert len(after.compute.firewalls) == len(firewalled.compute.firewalls) + 1
    # Compute's documented defaults for what the body leaves out.
    assert (rule["direction"], rule["priority"], rule["network"]) == ("INGRESS", 1000, network)
    assert rule["selfLink"].endswith("/projects/acme-staging/global/firewalls/allow-connector-egress")
    assert rejected_by_google(after) is None  # Google's client takes the new rule as it takes the others
    again = apply_request(after, request)
    assert isinstance(again, CannotApply) and "already exists" in again.why


def test_set_iam_policy_replaces_bindings_and_etag_by_default() -> None:
    scenario = load_scenario(SCENARIOS / "cause-run-invoker-denied.yaml")
    name = "projects/acme-staging/locations/us-central1/services/auth"
    bindings = [
        {"role": "roles/run.invoker", "members": ["serviceAccount:web@acme-staging.iam.gserviceaccount.com"]}
    ]
    request = Request(
        "run", "projects.locations.services.setIamPolicy", name, {"policy": {"bindings": bindings}}
    )
    policy = applied(scenario, request).iam[name]
    assert policy["bindings"] == bindings
    assert "etag" not in policy  # in the default mask, absent from the body: cleared
    assert policy["version"] == scenario.iam[name]["version"]  # outside the mask: kept
    missing = Request("run", "projects.locations.services.setIamPolicy", name + "x", {"policy": {}})
    refused = apply_request(scenario, missing)
    assert isinstance(refused, CannotApply) and "is not in the scenario's run.services" in refused.why
