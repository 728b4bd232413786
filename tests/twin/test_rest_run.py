"""Cloud Run Admin v2 on the twin, driven only through google-cloud-run's REST client.

Follows https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services (list, get, AIP-158
paging) and https://cloud.google.com/apis/design/errors (error shape).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import run_v2

from tests.twin.api_faults import FAULT_CODE_NAMES, raised_by_fault
from tests.twin.rest_twin import LOCATION, NUMBER, PROJECT, calls, fault, rest_kwargs, scenario, serve


def service(name: str, region: str = "us-central1", **fields: Any) -> dict[str, Any]:
    return {
        "name": f"projects/{PROJECT}/locations/{region}/services/{name}",
        "ingress": "INGRESS_TRAFFIC_ALL",
        "uri": f"https://{name}-abc-uc.a.run.app",
        **fields,
    }


SERVICES = [service(f"svc-{i}") for i in range(7)] + [service("eu-svc", region="europe-west1")]
REVISIONS = [
    {"name": f"{LOCATION}/services/svc-0/revisions/svc-0-0000{i}-abc", "generation": str(i)}
    for i in range(1, 6)
] + [{"name": f"{LOCATION}/services/svc-1/revisions/svc-1-00001-xyz"}]


def run_scenario(**extra: Any) -> Any:
    return scenario(run={"services": SERVICES, "revisions": REVISIONS}, **extra)


def test_list_pages_through_every_service_of_the_location() -> None:
    with serve(run_scenario()) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        pager = client.list_services(request={"parent": LOCATION, "page_size": 3})
        pages = [[s.name.rsplit("/", 1)[-1] for s in page.services] for page in pager.pages]
    assert pages == [["svc-0", "svc-1", "svc-2"], ["svc-3", "svc-4", "svc-5"], ["svc-6"]]
    assert [c.code for c in calls(twin, "ListServices")] == ["OK"] * 3


def test_list_of_every_location_and_by_project_number() -> None:
    with serve(run_scenario()) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        everywhere = [s.name for s in client.list_services(parent=f"projects/{PROJECT}/locations/-")]
        by_number = [s.name for s in client.list_services(parent=f"projects/{NUMBER}/locations/us-central1")]
    assert len(everywhere) == 8 and f"projects/{PROJECT}/locations/europe-west1/services/eu-svc" in everywhere
    assert len(by_number) == 7


def test_get_serves_the_resource_as_written_with_the_twin_uri() -> None:
    extra = {"template": {"scaling": {"maxInstanceCount": 20}, "timeout": "300s"}, "futureField": {"x": 1}}
    scenario_ = scenario(run={"services": [service("backend", **extra)]})
    with serve(scenario_) as twin:
        got = run_v2.ServicesClient(**rest_kwargs(twin)).get_service(name=f"{LOCATION}/services/backend")
        assert twin.addresses is not None
        assert got.uri == twin.addresses.services["backend"]
    assert got.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL
    assert got.template.scaling.max_instance_count == 20
    assert got.template.timeout.total_seconds() == 300


def test_a_service_without_uri_is_served_without_one_and_gets_no_endpoints() -> None:
    # `uri` is output only, set once a revision serves
    # (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services#Service): a service
    # whose revisions never became ready has none, and the twin must not invent one.
    never = service("never", terminalCondition={"type": "Ready", "state": "CONDITION_FAILED"})
    del never["uri"]
    scenario_ = scenario(run={"services": [service("backend"), never]})
    with serve(scenario_) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        got = client.get_service(name=f"{LOCATION}/services/never")
        listed = {s.name.rsplit("/", 1)[-1]: s for s in client.list_services(parent=LOCATION)}
        assert twin.addresses is not None
        served = dict(twin.addresses.services)
    assert (got.uri, list(got.urls)) == ("", [])
    assert listed["never"].uri == "" and listed["backend"].uri == served["backend"]
    assert list(served) == ["backend"]


def test_revisions_list_under_their_service_and_get() -> None:
    with serve(run_scenario()) as twin:
        client = run_v2.RevisionsClient(**rest_kwargs(twin))
        pager = client.list_revisions(request={"parent": f"{LOCATION}/services/svc-0", "page_size": 2})
        pages = [len(page.revisions) for page in pager.pages]
        one = client.get_revision(name=f"{LOCATION}/services/svc-1/revisions/svc-1-00001-xyz")
    assert pages == [2, 2, 1]
    assert one.name.endswith("svc-1-00001-xyz")


JOBS = [
    {
        "name": f"{LOCATION}/jobs/job-{i}",
        "template": {"template": {"vpcAccess": {"connector": f"{LOCATION}/connectors/staging-conn"}}},
        "latestCreatedExecution": {"name": f"job-{i}-abcde", "completionStatus": "EXECUTION_FAILED"},
    }
    for i in range(3)
]


def test_jobs_list_page_by_page_and_get_as_written() -> None:
    with serve(scenario(run={"services": SERVICES, "jobs": JOBS})) as twin:
        client = run_v2.JobsClient(**rest_kwargs(twin))
        pager = client.list_jobs(request={"parent": LOCATION, "page_size": 2})
        pages = [[j.name.rsplit("/", 1)[-1] for j in page.jobs] for page in pager.pages]
        one = client.get_job(name=f"projects/{NUMBER}/locations/us-central1/jobs/job-1")
        with pytest.raises(exceptions.Forbidden):
            client.run_job(name=f"{LOCATION}/jobs/job-1")
    assert pages == [["job-0", "job-1"], ["job-2"]]
    assert one.template.template.vpc_access.connector.endswith("/connectors/staging-conn")
    assert one.latest_created_execution.completion_status.name == "EXECUTION_FAILED"
    assert [c.code for c in calls(twin, "ListJobs")] == ["OK", "OK"]
    (refused,) = [c for c in twin.log.calls() if c.mutating]
    assert (refused.method, refused.code) == ("RunJob", "PERMISSION_DENIED")


def test_unknown_service_is_not_found_in_the_aip193_shape() -> None:
    with serve(run_scenario()) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        with pytest.raises(exceptions.NotFound) as caught:
            client.get_service(name=f"{LOCATION}/services/ghost")
    error = caught.value.response.json()["error"]
    assert error["code"] == 404 and error["status"] == "NOT_FOUND"
    assert "errors" not in error
    assert calls(twin, "GetService")[0].code == "NOT_FOUND"


def test_a_garbled_page_token_is_invalid_argument() -> None:
    with serve(run_scenario()) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        with pytest.raises(exceptions.BadRequest):
            list(client.list_services(request={"parent": LOCATION, "page_token": "not-a-token"}))


@pytest.mark.parametrize("method", ["delete", "update", "create"])
def test_mutating_calls_are_refused_and_logged(method: str) -> None:
    with serve(run_scenario()) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        name = f"{LOCATION}/services/svc-0"
        with pytest.raises(exceptions.Forbidden) as caught:
            if method == "delete":
                client.delete_service(name=name)
            elif method == "update":
                client.update_service(service=run_v2.Service(name=name, description="changed"))
            else:
                client.create_service(parent=LOCATION, service=run_v2.Service(), service_id="new")
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    (logged,) = [c for c in twin.log.calls() if c.mutating]
    assert (logged.api, logged.code) == ("run", "PERMISSION_DENIED")
    assert (
        logged.method
        == {"delete": "DeleteService", "update": "UpdateService", "create": "CreateService"}[method]
    )


@pytest.mark.parametrize("code", FAULT_CODE_NAMES)
def test_each_fault_code_arrives_with_its_http_status_and_status(code: str) -> None:
    with serve(run_scenario(apiFaults=[fault("run", code, "ListServices")])) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        error = raised_by_fault(
            twin, code, "ListServices", lambda: list(client.list_services(parent=LOCATION, retry=None))
        )
        # Only ListServices is faulty.
        assert client.get_service(name=f"{LOCATION}/services/svc-0").name.endswith("svc-0")
    assert error.response.json()["error"]["status"] == code


def test_quota_fault_carries_rate_limit_error_info() -> None:
    quota = run_scenario(apiFaults=[fault("run", "RESOURCE_EXHAUSTED")])
    with serve(quota) as twin, pytest.raises(exceptions.TooManyRequests) as caught:
        run_v2.ServicesClient(**rest_kwargs(twin)).get_service(name=f"{LOCATION}/services/svc-0", retry=None)
    assert caught.value.reason == "RATE_LIMIT_EXCEEDED"
    assert caught.value.domain == "googleapis.com"
    assert caught.value.metadata["service"] == "run.googleapis.com"


def test_service_disabled_is_permission_denied_with_error_info_and_help() -> None:
    disabled = fault("run", "PERMISSION_DENIED", reason="SERVICE_DISABLED")
    with serve(run_scenario(apiFaults=[disabled])) as twin, pytest.raises(exceptions.Forbidden) as caught:
        list(run_v2.ServicesClient(**rest_kwargs(twin)).list_services(parent=LOCATION))
    error = caught.value
    assert (error.reason, error.domain) == ("SERVICE_DISABLED", "googleapis.com")
    assert error.metadata["service"] == "run.googleapis.com"
    assert error.metadata["consumer"] == f"projects/{NUMBER}"
    assert "Cloud Run Admin API has not been used in project" in error.message
    kinds = [d["@type"].rsplit(".", 1)[-1] for d in error.response.json()["error"]["details"]]
    assert kinds == ["ErrorInfo", "LocalizedMessage", "Help"]


def test_times_limits_a_fault_and_delay_slows_the_answer() -> None:
    faults = [
        fault("run", "UNAVAILABLE", "GetService", times=1),
        {"api": "run", "method": "ListServices", "delayMs": 300},
    ]
    with serve(run_scenario(apiFaults=faults)) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        with pytest.raises(exceptions.ServiceUnavailable):
            client.get_service(name=f"{LOCATION}/services/svc-0", retry=None)
        assert client.get_service(name=f"{LOCATION}/services/svc-0", retry=None).name.endswith("svc-0")
        started = time.perf_counter()
        list(client.list_services(parent=LOCATION))
        waited = time.perf_counter() - started
    assert waited >= 0.3
    assert [c.code for c in calls(twin, "GetService")] == ["UNAVAILABLE", "OK"]


def test_another_project_is_denied_without_telling_whether_it_exists() -> None:
    with serve(run_scenario()) as twin, pytest.raises(exceptions.Forbidden) as caught:
        list(
            run_v2.ServicesClient(**rest_kwargs(twin)).list_services(parent="projects/other-proj/locations/-")
        )
    assert caught.value.metadata["permission"] == "run.services.list"
