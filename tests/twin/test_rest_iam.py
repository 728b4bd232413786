"""IAM of Cloud Run services on the twin (api `iam`), through google-cloud-run's REST client.

Follows https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/getIamPolicy,
.../testIamPermissions and .../setIamPolicy.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import run_v2
from google.iam.v1 import policy_pb2

from infradiag.twin.scenario import Scenario
from tests.twin.rest_twin import LOCATION, calls, fault, rest_kwargs, scenario, serve

PUBLIC = f"{LOCATION}/services/public"
PRIVATE = f"{LOCATION}/services/private"
POLICY = {
    "version": 1,
    "etag": "BwYz0dPZ0q4=",
    "bindings": [
        {"role": "roles/run.invoker", "members": ["allUsers"]},
        {"role": "roles/run.developer", "members": ["group:devs@example.com"]},
    ],
}


def iam_scenario(**extra: Any) -> Scenario:
    return scenario(run={"services": [{"name": PUBLIC}, {"name": PRIVATE}]}, iam={PUBLIC: POLICY}, **extra)


def test_get_iam_policy_serves_the_scenarios_policy() -> None:
    with serve(iam_scenario()) as twin:
        policy = run_v2.ServicesClient(**rest_kwargs(twin)).get_iam_policy(request={"resource": PUBLIC})
    assert isinstance(policy, policy_pb2.Policy)
    assert [(b.role, list(b.members)) for b in policy.bindings] == [
        ("roles/run.invoker", ["allUsers"]),
        ("roles/run.developer", ["group:devs@example.com"]),
    ]
    assert base64.b64encode(policy.etag) == POLICY["etag"].encode()
    (logged,) = calls(twin, "GetIamPolicy")
    assert (logged.api, logged.mutating, logged.code) == ("iam", False, "OK")


def test_a_service_without_a_policy_has_googles_empty_policy() -> None:
    with serve(iam_scenario()) as twin:
        policy = run_v2.ServicesClient(**rest_kwargs(twin)).get_iam_policy(request={"resource": PRIVATE})
    assert list(policy.bindings) == []
    assert base64.b64encode(policy.etag) == b"ACAB"


def test_policy_of_an_unknown_service_is_not_found() -> None:
    with serve(iam_scenario()) as twin, pytest.raises(exceptions.NotFound):
        run_v2.ServicesClient(**rest_kwargs(twin)).get_iam_policy(
            request={"resource": f"{LOCATION}/services/x"}
        )


def test_test_iam_permissions_grants_a_viewer_the_reads_only() -> None:
    asked = ["run.services.get", "run.services.getIamPolicy", "run.services.delete", "run.routes.invoke"]
    with serve(iam_scenario()) as twin:
        answer = run_v2.ServicesClient(**rest_kwargs(twin)).test_iam_permissions(
            request={"resource": PUBLIC, "permissions": asked}
        )
    assert list(answer.permissions) == ["run.services.get", "run.services.getIamPolicy"]
    assert [c.mutating for c in calls(twin, "TestIamPermissions")] == [False]


def test_set_iam_policy_is_refused_and_logged_as_mutating() -> None:
    with serve(iam_scenario()) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        with pytest.raises(exceptions.Forbidden) as caught:
            client.set_iam_policy(request={"resource": PUBLIC, "policy": policy_pb2.Policy()})
        # The scenario's policy is unchanged.
        assert len(client.get_iam_policy(request={"resource": PUBLIC}).bindings) == 2
    assert caught.value.metadata["permission"] == "run.services.setIamPolicy"
    (logged,) = calls(twin, "SetIamPolicy")
    assert (logged.api, logged.mutating, logged.code) == ("iam", True, "PERMISSION_DENIED")


def test_iam_faults_leave_the_run_api_alone() -> None:
    with serve(iam_scenario(apiFaults=[fault("iam", "PERMISSION_DENIED")])) as twin:
        client = run_v2.ServicesClient(**rest_kwargs(twin))
        with pytest.raises(exceptions.Forbidden) as caught:
            client.get_iam_policy(request={"resource": PUBLIC})
        assert client.get_service(name=PUBLIC).name == PUBLIC
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert caught.value.metadata["permission"] == "run.services.getIamPolicy"
