"""What-if mode: a fix's API request applied to a copy of a scenario, as Google's API would apply it.

The request is the one a typed fix makes (`Request`: api, method, full resource name, body, updateMask). The
resource is found by its name in the scenario section that holds its kind; the body is merged into a copy of
it with the method's semantics:

- with an updateMask (AIP-134, https://google.aip.dev/134, e.g. Serverless VPC Access
  `projects.locations.connectors.patch`): only the masked fields are replaced; a masked field absent from the
  body is cleared; a repeated or map field is replaced whole, never appended to;
- a `create` (AIP-133; Compute's `insert`) adds the body as a new resource under the parent the request
  names, with the name and defaults the API gives it (Monitoring alert policies, Compute resources);
- `setIamPolicy` replaces the masked fields of the resource's policy in the scenario's `iam`;
- without an updateMask (Cloud SQL Admin `instances.patch`, "Partially updates settings of a Cloud SQL
  instance by merging the request with the current configuration. This method supports patch semantics.":
  https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/patch; Compute `*.patch`, "JSON
  merge patch format and processing rules", RFC 7396): objects merge field by field, every other value
  (lists included: `settings.databaseFlags` is replaced whole) is replaced, and a JSON null deletes.

Then the side effects Google documents for that resource (`_SIDE_EFFECTS`), and the resource's Monitoring
series (and Cloud Run's own answers) projected at the same observed load (whatif_capacity.py). Whatever
cannot be applied is an explicit `CannotApply` with the reason, never a silent no-op.

Not modelled: a Cloud Run change to a service's `template` makes a new revision at Google
(https://cloud.google.com/run/docs/resource-model#revisions); here the service's template changes and its
revisions stay as they were (the diagnosis reads a service's settings from its template).
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infradiag.twin.compute_names import PlacementError, placement
from infradiag.twin.scenario import Resource, Scenario
from infradiag.twin.whatif_capacity import project_series, project_serving


@dataclass(frozen=True)
class Request:
    """One API request, as the report's `remediation.request` writes it."""

    api: str
    method: str  # the REST reference's method, e.g. "instances.patch", "projects.locations.connectors.patch"
    resource: str  # full resource name
    body: dict[str, Any]
    update_mask: str | None = None  # comma-separated field paths; None for a method that takes none


@dataclass(frozen=True)
class Applied:
    """The scenario once the request applied; `notes` say what else changed (side effects, projections)."""

    scenario: Scenario
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CannotApply:
    """Why the request could not be applied to the scenario."""

    why: str


# The methods whose effect the twin can apply: the verb after the last dot of the REST method name.
_MERGE_VERBS = ("patch",)
_CREATE_VERBS = ("create", "insert")  # AIP-133's create; Compute calls it insert
_SET_IAM = "setIamPolicy"


# A create request's resource: the new resource made from the parent and body, or why it cannot be.
Creator = Callable[[str, dict[str, Any], list[Resource], Scenario], "Resource | str"]


@dataclass(frozen=True)
class _Kind:
    """Where a kind of resource lives in a scenario and how its name reads there."""

    section: str  # "sql", "vpcaccess", "compute", "run", "monitoring"
    key: str  # the list in that section
    name_of: Callable[[Resource, Scenario], str]  # the resource's full name, as requests write it
    create: Creator | None = None  # how a `create` request makes one; None: what-if cannot create it


def _full_name(resource: Resource, scenario: Scenario) -> str:
    name = str(resource.get("name", ""))
    if scenario.projectNumber:
        name = name.replace(f"projects/{scenario.projectNumber}/", f"projects/{scenario.project}/", 1)
    return name


def _sql_name(resource: Resource, scenario: Scenario) -> str:
    # A DatabaseInstance's `name` is the instance id; its `project` the project id.
    instance = str(resource.get("name", "")).rsplit("/", 1)[-1]
    return f"projects/{resource.get('project', scenario.project)}/instances/{instance}"


def _compute_name(collection: str) -> Callable[[Resource, Scenario], str]:
    def name_of(resource: Resource, scenario: Scenario) -> str:
        try:
            where = placement(resource, collection)
        except PlacementError:
            return ""
        return where.relative(where.project or scenario.project, collection)

    return name_of


_COMPUTE_API = "https://www.googleapis.com/compute/v1"
_COMPUTE_PARENT = re.compile(r"projects/(?P<project>[^/]+)(?:/(?P<scope>global|regions/[^/]+|zones/[^/]+))?")


def _compute_insert(collection: str) -> Creator:
    """Compute `insert` (https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/insert and its
    siblings): the body names the resource; the request's resource gives its project and scope (global when it
    names none). Compute adds the selfLink and scope URLs, and, for a firewall rule, its documented defaults:
    direction INGRESS, priority 1000, the project's `default` network
    (https://cloud.google.com/compute/docs/reference/rest/v1/firewalls)."""

    def create(
        parent: str, body: dict[str, Any], existing: list[Resource], scenario: Scenario
    ) -> Resource | str:
        name = body.get("name")
        match = _COMPUTE_PARENT.match(parent)
        if not name:
            return f"a Compute insert names the new resource in its body: no `name` in the {collection} body"
        if match is None:
            return f"{parent} names no Compute project to insert {name} into"
        project, scope = match["project"], match["scope"] or "global"
        resource = copy.deepcopy(body)
        resource.setdefault("selfLink", f"{_COMPUTE_API}/projects/{project}/{scope}/{collection}/{name}")
        if scope != "global":
            resource.setdefault(scope.split("/")[0][:-1], f"{_COMPUTE_API}/projects/{project}/{scope}")
        if collection == "firewalls":
            resource.setdefault("direction", "INGRESS")
            resource.setdefault("priority", 1000)
            resource.setdefault("network", f"{_COMPUTE_API}/projects/{project}/global/networks/default")
        full = _compute_name(collection)(resource, scenario)
        if any(_compute_name(collection)(r, scenario) == full for r in existing):
            return f"{full} already exists (Compute answers 409 alreadyExists)"
        return resource

    return create


_COMPUTE_KEYS = (
    "networks",
    "subnetworks",
    "firewalls",
    "routers",
    "backendServices",
    "healthChecks",
    "networkEndpointGroups",
    "urlMaps",
    "forwardingRules",
    "instanceGroups",
    "instances",
)


def _new_alert_policy(
    parent: str, body: dict[str, Any], existing: list[Resource], scenario: Scenario
) -> Resource | str:
    """projects.alertPolicies.create (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies/create):
    the request names the project; Monitoring names the policy `projects/P/alertPolicies/ID` and each of its
    conditions `.../conditions/ID`, and a policy written without `enabled` is enabled ("On write, the default
    interpretation if unset is that the policy is enabled")."""
    if parent not in (f"projects/{scenario.project}", f"projects/{scenario.projectNumber}"):
        return f"{parent} is not the scenario's project (projects/{scenario.project})"
    taken = {str(p.get("name", "")).rsplit("/", 1)[-1] for p in existing}
    policy_id = next(str(n) for n in itertools.count(1) if str(n) not in taken)
    name = f"projects/{scenario.project}/alertPolicies/{policy_id}"
    policy = {**copy.deepcopy(body), "name": name}
    policy.setdefault("enabled", True)
    policy["conditions"] = [
        {**condition, "name": f"{name}/conditions/{number}"}
        for number, condition in enumerate(policy.get("conditions") or [], 1)
    ]
    return policy


# (api, collection as the method names it) -> where the resource lives. Compute names its regional
# collections apart (regionBackendServices.patch) while a scenario lists both scopes together.
_KINDS: dict[tuple[str, str], _Kind] = {
    ("sqladmin", "instances"): _Kind("sql", "instances", _sql_name),
    ("vpcaccess", "connectors"): _Kind("vpcaccess", "connectors", _full_name),
    ("run", "services"): _Kind("run", "services", _full_name),
    ("run", "jobs"): _Kind("run", "jobs", _full_name),
    ("monitoring", "alertPolicies"): _Kind("monitoring", "alertPolicies", _full_name, _new_alert_policy),
    **{
        ("compute", key): _Kind("compute", key, _compute_name(key), _compute_insert(key))
        for key in _COMPUTE_KEYS
    },
    **{
        ("compute", "region" + key[0].upper() + key[1:]): _Kind(
            "compute", key, _compute_name(key), _compute_insert(key)
        )
        for key in ("backendServices", "healthChecks", "urlMaps", "networkEndpointGroups", "instanceGroups")
    },
}


def _split_path(path: str) -> list[str]:
    return [part for part in path.split(".") if part]


def _masked_update(current: Resource, body: dict[str, Any], mask: str) -> Resource:
    """AIP-134: each masked field takes the body's value, or is cleared when the body has none."""
    updated = copy.deepcopy(current)
    for path in (p.strip() for p in mask.split(",")):
        if path == "*":  # AIP-134: a full replacement
            return {**copy.deepcopy(body), "name": current.get("name")}
        parts = _split_path(path)
        source: Any = body
        for part in parts:
            source = source.get(part) if isinstance(source, dict) else None
        target = updated
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        if source is None:
            target.pop(parts[-1], None)
        else:
            target[parts[-1]] = copy.deepcopy(source)
    return updated


def merge_patch(current: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge key by key, null deletes, anything else (a list too) replaces.
    Neither argument is modified."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(current) if isinstance(current, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _sql_side_effects(before: Resource, after: Resource) -> list[str]:
    """Cloud SQL: an instance whose activation policy goes to ALWAYS starts
    (https://cloud.google.com/sql/docs/postgres/start-stop-restart-instance). A stopped instance reads state
    RUNNABLE with activationPolicy NEVER ("RUNNABLE: the instance is running, or has been stopped by owner",
    https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances#SqlInstanceState), or STOPPED;
    a SUSPENDED one stays suspended whatever the policy (no patch revives it)."""
    notes = []
    was = (before.get("settings") or {}).get("activationPolicy")
    now = (after.get("settings") or {}).get("activationPolicy")
    if now == "ALWAYS" and was != "ALWAYS" and after.get("state") in ("RUNNABLE", "STOPPED"):
        if after.get("state") == "STOPPED":
            after["state"] = "RUNNABLE"
        notes.append(
            f"{after.get('name')} starts: activation policy {was or 'unset'} -> ALWAYS, state RUNNABLE"
        )
    # settingsVersion: "the version of instance settings", incremented by every settings update.
    settings = after.get("settings")
    if isinstance(settings, dict) and settings != before.get("settings") and "settingsVersion" in settings:
        settings["settingsVersion"] = str(int(settings["settingsVersion"]) + 1)
    return notes


# https://cloud.google.com/vpc/docs/reference/vpcaccess/rest/v1/projects.locations.connectors: min/
# maxThroughput are the older way to size a connector, in Mbps of e2-micro instances (100 Mbps each), and
# follow min/maxInstances when those are set.
_THROUGHPUT_PER_INSTANCE = 100


def _connector_side_effects(before: Resource, after: Resource) -> list[str]:
    notes = []
    for instances, throughput in (("minInstances", "minThroughput"), ("maxInstances", "maxThroughput")):
        if after.get(instances) not in (None, before.get(instances)) and throughput in after:
            after[throughput] = int(after[instances]) * _THROUGHPUT_PER_INSTANCE
            notes.append(f"{throughput} follows {instances}: {after[throughput]}")
    return notes


_SIDE_EFFECTS: dict[str, Callable[[Resource, Resource], list[str]]] = {
    "sqladmin": _sql_side_effects,
    "vpcaccess": _connector_side_effects,
}


def _kind_of(request: Request) -> _Kind | CannotApply:
    parts = request.method.split(".")
    if len(parts) < 2:
        return CannotApply(f"{request.api} {request.method} is not a REST method name (COLLECTION.VERB)")
    collection, verb = parts[-2], parts[-1]
    kind = _KINDS.get((request.api, collection))
    if kind is None:
        known = ", ".join(sorted({f"{api} {c}" for api, c in _KINDS}))
        return CannotApply(f"the twin holds no {request.api} {collection} (what-if knows {known})")
    if verb not in (*_MERGE_VERBS, _SET_IAM) and not (verb in _CREATE_VERBS and kind.create is not None):
        return CannotApply(
            f"what-if applies {', '.join(_MERGE_VERBS)} and {_SET_IAM} requests, create for monitoring "
            f"alertPolicies and insert for compute; not {request.api} {request.method}"
        )
    return kind


def _set_iam_policy(scenario: Scenario, request: Request) -> Applied | CannotApply:
    """setIamPolicy (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/setIamPolicy,
    https://cloud.google.com/iam/docs/reference/rest/v1/Policy): the policy's fields in the request's
    `updateMask` replace the resource's, by default `bindings, etag` ("If no mask is provided, the following
    default mask is used: paths: "bindings, etag""); the scenario's `iam` holds policies by full name."""
    policy = request.body.get("policy")
    if not isinstance(policy, dict):
        return CannotApply(f"a {_SET_IAM} request carries the new `policy` in its body; this one has none")
    mask = request.body.get("updateMask") or request.update_mask or "bindings,etag"
    changed = scenario.model_copy(deep=True)
    changed.iam[request.resource] = _masked_update(changed.iam.get(request.resource, {}), policy, mask)
    members = sorted({m for b in policy.get("bindings") or [] for m in b.get("members") or []})
    return Applied(changed, [f"IAM policy of {request.resource} set ({', '.join(members) or 'no members'})"])


def apply_request(scenario: Scenario, request: Request) -> Applied | CannotApply:
    """The scenario with `request` applied to a copy (the given scenario is never modified), its side effects
    and the resource's Monitoring series projected at the same load; CannotApply naming why when the method
    is not one what-if applies, the resource is not in the scenario, or its load cannot be projected."""
    kind = _kind_of(request)
    if isinstance(kind, CannotApply):
        return kind
    resources: list[Resource] = getattr(getattr(scenario, kind.section), kind.key)
    exists = any(kind.name_of(r, scenario) == request.resource for r in resources)
    if request.method.endswith(_SET_IAM):
        if not exists:
            return CannotApply(f"{request.resource} is not in the scenario's {kind.section}.{kind.key}")
        return _set_iam_policy(scenario, request)
    if kind.create is not None and request.method.endswith(_CREATE_VERBS):
        created = kind.create(request.resource, request.body, resources, scenario)
        if isinstance(created, str):
            return CannotApply(created)
        changed = scenario.model_copy(deep=True)
        getattr(getattr(changed, kind.section), kind.key).append(created)
        return Applied(changed, [f"{created['name']} created"])
    index = next((i for i, r in enumerate(resources) if kind.name_of(r, scenario) == request.resource), None)
    if index is None:
        return CannotApply(f"{request.resource} is not in the scenario's {kind.section}.{kind.key}")
    before = resources[index]
    if request.update_mask is not None:
        after = _masked_update(before, request.body, request.update_mask)
    else:
        after = merge_patch(before, request.body)
    side_effects = _SIDE_EFFECTS.get(request.api)
    notes = side_effects(before, after) if side_effects is not None else []
    projected = project_series(request.api, scenario, before, after)
    if isinstance(projected, str):
        return CannotApply(projected)
    serving = project_serving(scenario, request.api, before, after)
    if isinstance(serving, str):
        return CannotApply(serving)
    (series, series_notes), (endpoints, serving_notes) = projected, serving
    changed = scenario.model_copy(deep=True)
    getattr(getattr(changed, kind.section), kind.key)[index] = after
    changed.monitoring.timeSeries = series
    changed.endpoints = copy.deepcopy(endpoints)
    return Applied(changed, notes + series_notes + serving_notes)
