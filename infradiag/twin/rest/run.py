"""Cloud Run Admin API v2 over REST: services, revisions, the services' IAM policies, and jobs.

https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services and
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infradiag.twin.google_errors import GoogleError
from infradiag.twin.rest.core import Call, Collection, Handler, Route, paginate, route
from infradiag.twin.scenario import Resource, Scenario

# The policy getIamPolicy returns for a resource that has none set: no bindings, this etag (observed; the
# reference says only "Returns an empty policy if the resource exists and does not have a policy set",
# https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/getIamPolicy).
EMPTY_POLICY: dict[str, Any] = {"etag": "ACAB"}
# testIamPermissions answers for a caller holding roles/run.viewer: the read permissions only.
VIEWER_VERBS = ("get", "list", "getIamPolicy")

RUN, IAM = "run", "iam"  # the services' IAM methods are logged and faulted as their own api
SERVICES = "/v2/projects/{project}/locations/{location}/services"
JOBS = "/v2/projects/{project}/locations/{location}/jobs"
# The paths this API answers, as (api, path template) pairs the twin routes by (rest/__init__.py): the
# services and their revisions, the jobs, and the services' IAM methods
# (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/getIamPolicy).
PATH_PREFIXES = (
    (RUN, SERVICES),
    (RUN, JOBS),
    (IAM, f"{SERVICES}/{{service}}:(?:getIamPolicy|setIamPolicy|testIamPermissions)"),
)


def _served_service(service: Resource, service_urls: Mapping[str, str]) -> Resource:
    """The service as the twin serves it: `uri` and `urls` rewritten to where the twin serves its endpoints
    (docs/scenario-format.md), and only when the scenario gives it a `uri`; otherwise exactly as written."""
    # `uri` is output only and set once the service serves
    # (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services#Service): a service
    # whose revisions never became ready has none, and inventing one would make it look reachable.
    if not service.get("uri"):
        return service
    short = str(service.get("name", "")).rsplit("/", 1)[-1]
    url = service_urls.get(short)
    if url is None:
        return service
    return {**service, "uri": url, "urls": [url]}


class RunApi:
    """Routes of Cloud Run Admin v2."""

    def __init__(self, scenario: Scenario, service_urls: Mapping[str, str]) -> None:
        self.scenario = scenario
        self.services = Collection(
            "services", "services", tuple(_served_service(s, service_urls) for s in scenario.run.services)
        )
        self.revisions = Collection("revisions", "revisions", tuple(scenario.run.revisions))
        self.jobs = Collection("jobs", "jobs", tuple(scenario.run.jobs))

    def _canonical(self, name: str) -> str:
        # Names may use the project number; the scenario writes the project id.
        parts = name.split("/")
        if len(parts) > 1 and parts[1] == self.scenario.projectNumber:
            parts[1] = self.scenario.project
        return "/".join(parts)

    def _lister(self, collection: Collection) -> Handler:
        def handle(call: Call) -> dict[str, Any]:
            parent = self._canonical(call.relative_name().rsplit(f"/{collection.kind}", 1)[0])
            return paginate(collection.list(parent), collection.response_key, parent, call.query)

        return handle

    def _getter(self, collection: Collection) -> Handler:
        def handle(call: Call) -> dict[str, Any]:
            return collection.get(self._canonical(call.relative_name()))

        return handle

    def _service_of(self, call: Call) -> str:
        return self._canonical(call.relative_name().rsplit(":", 1)[0])

    def get_iam_policy(self, call: Call) -> dict[str, Any]:
        """The service's policy from `scenario.iam`, or the empty policy; NOT_FOUND for no such service."""
        name = self.services.get(self._service_of(call))["name"]
        return dict(self.scenario.iam.get(name, EMPTY_POLICY))

    def test_iam_permissions(self, call: Call) -> dict[str, Any]:
        """The subset of the asked permissions a run.viewer holds."""
        self.services.get(self._service_of(call))
        asked = (call.body or {}).get("permissions") or []
        if not isinstance(asked, list):
            raise GoogleError("INVALID_ARGUMENT", "permissions must be a list of strings.")
        held = [p for p in asked if isinstance(p, str) and p.rsplit(".", 1)[-1] in VIEWER_VERBS]
        return {"permissions": held} if held else {}

    def routes(self) -> list[Route]:
        svc = f"{SERVICES}/{{service}}"
        rev = f"{svc}/revisions/{{revision}}"
        job = f"{JOBS}/{{job}}"
        return [
            route(RUN, "ListServices", "GET", SERVICES, self._lister(self.services), "run.services.list"),
            route(RUN, "GetService", "GET", svc, self._getter(self.services), "run.services.get"),
            route(RUN, "CreateService", "POST", SERVICES, None, "run.services.create"),
            route(RUN, "UpdateService", "PATCH", svc, None, "run.services.update"),
            route(RUN, "DeleteService", "DELETE", svc, None, "run.services.delete"),
            # https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/getIamPolicy
            route(
                IAM,
                "GetIamPolicy",
                "GET",
                f"{svc}:getIamPolicy",
                self.get_iam_policy,
                "run.services.getIamPolicy",
            ),
            route(
                IAM,
                "TestIamPermissions",
                "POST",
                f"{svc}:testIamPermissions",
                self.test_iam_permissions,
                "run.services.get",
            ),
            route(IAM, "SetIamPolicy", "POST", f"{svc}:setIamPolicy", None, "run.services.setIamPolicy"),
            # https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services.revisions
            route(
                RUN,
                "ListRevisions",
                "GET",
                f"{svc}/revisions",
                self._lister(self.revisions),
                "run.revisions.list",
            ),
            route(RUN, "GetRevision", "GET", rev, self._getter(self.revisions), "run.revisions.get"),
            route(RUN, "DeleteRevision", "DELETE", rev, None, "run.revisions.delete"),
            # https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs
            route(RUN, "ListJobs", "GET", JOBS, self._lister(self.jobs), "run.jobs.list"),
            route(RUN, "GetJob", "GET", job, self._getter(self.jobs), "run.jobs.get"),
            route(RUN, "CreateJob", "POST", JOBS, None, "run.jobs.create"),
            route(RUN, "UpdateJob", "PATCH", job, None, "run.jobs.update"),
            route(RUN, "DeleteJob", "DELETE", job, None, "run.jobs.delete"),
            route(RUN, "RunJob", "POST", f"{job}:run", None, "run.jobs.run"),
        ]
