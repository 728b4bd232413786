"""Cloud SQL Admin API over REST: instances list and get, at v1 and v1beta4 paths.

google-cloud-sql's `sqladmin_v1` ships only gRPC transports, `sqladmin_v1beta4` has REST; both versions
serve the same DatabaseInstance JSON, so the twin answers both:
https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/list and
https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1beta4/instances/list. `maxResults` defaults
to 500 and is coerced to at most 1000 (SqlInstancesListRequest in google/cloud/sql/v1beta4/cloud_sql.proto);
the list is `{kind: "sql#instancesList", items, nextPageToken}`.

RPC names are the REST reference's methods: `instances.list`, `instances.get`, `instances.restart`...
"""

from __future__ import annotations

from typing import Any

from infradiag.twin.google_errors import GoogleError
from infradiag.twin.rest.core import (
    Call,
    Route,
    decode_token,
    encode_token,
    request_fingerprint,
    route,
    unimplemented,
)
from infradiag.twin.scenario import Resource, Scenario

API = "sql"
V1_INSTANCES, V1BETA4 = "/v1/projects/{project}/instances", "/sql/v1beta4"
# The paths this API answers, as (api, path template) pairs the twin routes by (rest/__init__.py).
PATH_PREFIXES = ((API, V1_INSTANCES), (API, V1BETA4))
DEFAULT_MAX_RESULTS = 500
MAX_RESULTS = 1000


def instance_id(instance: Resource) -> str:
    """The instance's id: `name` as the API writes it, or the last segment of `projects/P/instances/I`."""
    return str(instance.get("name", "")).rsplit("/", 1)[-1]


class SqlApi:
    """Routes of Cloud SQL Admin v1 and v1beta4."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.instances = sorted(scenario.sql.instances, key=instance_id)

    def list_instances(self, call: Call) -> dict[str, Any]:
        raw = call.query.get("maxResults") or "0"
        try:
            size = int(raw)
        except ValueError:
            raise GoogleError("INVALID_ARGUMENT", f"Invalid value for field 'maxResults': '{raw}'.") from None
        if size < 0:
            raise GoogleError("INVALID_ARGUMENT", f"Invalid value for field 'maxResults': '{raw}'.")
        size = min(size or DEFAULT_MAX_RESULTS, MAX_RESULTS)
        if call.query.get("filter", "").strip():
            raise GoogleError("INVALID_ARGUMENT", "The twin does not evaluate Cloud SQL list filters.")
        fingerprint = request_fingerprint(call.match.group(0))
        token = call.query.get("pageToken") or ""
        offset = decode_token(token, fingerprint) if token else 0
        page = self.instances[offset : offset + size]
        body: dict[str, Any] = {"kind": "sql#instancesList"}
        if page:
            body["items"] = page
        if offset + size < len(self.instances):
            body["nextPageToken"] = encode_token(offset + size, fingerprint)
        return body

    def get_instance(self, call: Call) -> dict[str, Any]:
        wanted = call.match["instance"]
        for instance in self.instances:
            if instance_id(instance) == wanted:
                return instance
        # Cloud SQL's own words and legacy reason for an unknown instance in an accessible project.
        raise GoogleError(
            "NOT_FOUND", "The Cloud SQL instance does not exist.", legacy_reason="instanceDoesNotExist"
        )

    def routes(self) -> list[Route]:
        table: list[Route] = []
        for base in (V1_INSTANCES, f"{V1BETA4}/projects/{{project}}/instances"):
            item = f"{base}/{{instance}}"
            table += [
                route(API, "instances.list", "GET", base, self.list_instances, "cloudsql.instances.list"),
                route(API, "instances.insert", "POST", base, None, "cloudsql.instances.create"),
                route(API, "instances.get", "GET", item, self.get_instance, "cloudsql.instances.get"),
                route(API, "instances.delete", "DELETE", item, None, "cloudsql.instances.delete"),
                route(API, "instances.patch", "PATCH", item, None, "cloudsql.instances.update"),
                route(API, "instances.update", "PUT", item, None, "cloudsql.instances.update"),
                route(API, "instances.{verb}", "POST", f"{item}/{{verb}}", None, "cloudsql.instances.update"),
                route(
                    API,
                    "instances.{verb}",
                    "GET",
                    f"{item}/{{verb}}",
                    _unimplemented_verb,
                    "cloudsql.instances.get",
                ),
            ]
        return table


def _unimplemented_verb(call: Call) -> dict[str, Any]:
    return unimplemented(f"instances.{call.match['verb']}")(call)
