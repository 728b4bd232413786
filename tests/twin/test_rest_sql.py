"""Cloud SQL Admin on the twin, driven through google-cloud-sql's sqladmin_v1beta4 REST client (its
sqladmin_v1 has gRPC transports only).

Follows https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1beta4/instances/list (maxResults,
pageToken, `items`) and .../instances/get.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import sqladmin_v1beta4

from infradiag.twin.faults import FaultInjector
from infradiag.twin.requestlog import RequestLog
from infradiag.twin.rest import RestApis
from tests.twin.rest_twin import PROJECT, calls, fault, rest_kwargs, scenario, serve


def instance(name: str, state: str = "RUNNABLE") -> dict[str, Any]:
    return {
        "kind": "sql#instance",
        "name": name,
        "project": PROJECT,
        "connectionName": f"{PROJECT}:us-central1:{name}",
        "databaseVersion": "POSTGRES_15",
        "region": "us-central1",
        "state": state,
        "settings": {
            "tier": "db-custom-2-7680",
            "databaseFlags": [{"name": "max_connections", "value": "100"}],
        },
    }


INSTANCES = [instance(f"db-{i}") for i in range(4)] + [instance("broken", state="FAILED")]


def sql_client(twin: Any) -> Any:
    return sqladmin_v1beta4.SqlInstancesServiceClient(**rest_kwargs(twin))


def test_list_pages_through_the_instances() -> None:
    with serve(scenario(sql={"instances": INSTANCES})) as twin:
        pager = sql_client(twin).list(request={"project": PROJECT, "max_results": 2})
        # This library's ListPager iterates `warnings`; the instances are on each page's `items`.
        pages = [[i.name for i in page.items] for page in pager.pages]
    assert pages == [["broken", "db-0"], ["db-1", "db-2"], ["db-3"]]
    assert [c.code for c in calls(twin, "instances.list")] == ["OK"] * 3


def test_get_serves_the_instance_as_written() -> None:
    with serve(scenario(sql={"instances": INSTANCES})) as twin:
        got = sql_client(twin).get(request={"project": PROJECT, "instance": "broken"})
    assert got.state == sqladmin_v1beta4.DatabaseInstance.SqlInstanceState.FAILED
    assert got.settings.tier == "db-custom-2-7680"
    assert got.settings.database_flags[0].value == "100"
    assert got.connection_name == f"{PROJECT}:us-central1:broken"


def test_unknown_instance_is_cloud_sqls_not_found() -> None:
    with (
        serve(scenario(sql={"instances": INSTANCES})) as twin,
        pytest.raises(exceptions.NotFound) as caught,
    ):
        sql_client(twin).get(request={"project": PROJECT, "instance": "ghost"})
    assert caught.value.errors == [
        {
            "message": "The Cloud SQL instance does not exist.",
            "domain": "global",
            "reason": "instanceDoesNotExist",
        }
    ]


def test_mutating_calls_are_refused_and_logged() -> None:
    with serve(scenario(sql={"instances": INSTANCES})) as twin:
        client = sql_client(twin)
        with pytest.raises(exceptions.Forbidden) as caught:
            client.restart(request={"project": PROJECT, "instance": "db-0"})
        with pytest.raises(exceptions.Forbidden):
            client.delete(request={"project": PROJECT, "instance": "db-0"})
    assert caught.value.errors[0]["reason"] == "notAuthorized"
    assert [(c.method, c.mutating, c.code) for c in twin.log.calls()] == [
        ("instances.restart", True, "PERMISSION_DENIED"),
        ("instances.delete", True, "PERMISSION_DENIED"),
    ]


def test_unavailable_fault_then_recovery() -> None:
    faulty = scenario(
        sql={"instances": INSTANCES}, apiFaults=[fault("sql", "UNAVAILABLE", "instances.get", times=1)]
    )
    with serve(faulty) as twin:
        client = sql_client(twin)
        with pytest.raises(exceptions.ServiceUnavailable) as caught:
            client.get(request={"project": PROJECT, "instance": "db-0"}, retry=None)
        assert client.get(request={"project": PROJECT, "instance": "db-0"}).name == "db-0"
    assert caught.value.errors[0]["reason"] == "backendError"
    assert [c.code for c in calls(twin, "instances.get")] == ["UNAVAILABLE", "OK"]


def test_disabled_sql_admin_api() -> None:
    disabled = fault("sql", "PERMISSION_DENIED", reason="SERVICE_DISABLED")
    with (
        serve(scenario(sql={"instances": INSTANCES}, apiFaults=[disabled])) as twin,
        pytest.raises(exceptions.Forbidden) as caught,
    ):
        list(sql_client(twin).list(request={"project": PROJECT}).pages)
    assert caught.value.reason == "SERVICE_DISABLED"
    assert caught.value.metadata["service"] == "sqladmin.googleapis.com"
    assert caught.value.errors[0]["reason"] == "accessNotConfigured"


def test_v1_and_v1beta4_paths_answer_the_same() -> None:
    # No google-cloud-sql client speaks v1 over REST, so the two route tables are compared in-process.
    apis = RestApis(scenario(sql={"instances": INSTANCES}), {}, RequestLog(), FaultInjector([]))

    async def both(path: str) -> tuple[Any, Any]:
        v1 = await apis.answer("GET", f"/v1/projects/{PROJECT}/{path}", {"maxResults": "2"})
        beta = await apis.answer("GET", f"/sql/v1beta4/projects/{PROJECT}/{path}", {"maxResults": "2"})
        return v1, beta

    for path in ("instances", "instances/db-1", "instances/ghost"):
        v1, beta = asyncio.run(both(path))
        assert v1[0] == beta[0]
        assert {k: v for k, v in v1[1].items() if k != "nextPageToken"} == {
            k: v for k, v in beta[1].items() if k != "nextPageToken"
        }


# A stopped read replica and a suspended CMEK primary, written as Cloud SQL Admin v1 returns them
# (https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances): a stopped instance stays RUNNABLE
# with settings.activationPolicy NEVER; suspensionReason is a list of SqlSuspensionReason names.
REPLICA = {
    **instance("staging-db-replica"),
    "instanceType": "READ_REPLICA_INSTANCE",
    "masterInstanceName": f"{PROJECT}:staging-db",
    "settings": {"tier": "db-custom-1-3840", "activationPolicy": "NEVER"},
}
SUSPENDED = {
    **instance("staging-db", state="SUSPENDED"),
    "instanceType": "CLOUD_SQL_INSTANCE",
    "suspensionReason": ["KMS_KEY_ISSUE"],
    "replicaNames": ["staging-db-replica"],
    "settings": {"tier": "db-custom-2-7680", "activationPolicy": "ALWAYS"},
}


def test_replication_activation_and_suspension_fields_are_served_as_written() -> None:
    apis = RestApis(scenario(sql={"instances": [REPLICA, SUSPENDED]}), {}, RequestLog(), FaultInjector([]))

    async def get(name: str) -> Any:
        return await apis.answer("GET", f"/v1/projects/{PROJECT}/instances/{name}", {})

    for written in (REPLICA, SUSPENDED):
        status, body = asyncio.run(get(written["name"]))
        assert status == 200
        assert body == written


def test_the_client_reads_replication_activation_and_suspension_fields() -> None:
    with serve(scenario(sql={"instances": [REPLICA, SUSPENDED]})) as twin:
        client = sql_client(twin)
        replica = client.get(request={"project": PROJECT, "instance": "staging-db-replica"})
        primary = client.get(request={"project": PROJECT, "instance": "staging-db"})
    types = sqladmin_v1beta4.SqlInstanceType
    assert (replica.instance_type, replica.master_instance_name) == (
        types.READ_REPLICA_INSTANCE,
        f"{PROJECT}:staging-db",
    )
    assert replica.settings.activation_policy == sqladmin_v1beta4.Settings.SqlActivationPolicy.NEVER
    assert replica.state == sqladmin_v1beta4.DatabaseInstance.SqlInstanceState.RUNNABLE
    assert list(primary.suspension_reason) == [sqladmin_v1beta4.SqlSuspensionReason.KMS_KEY_ISSUE]
    assert list(primary.replica_names) == ["staging-db-replica"]
