"""Compute Engine v1 over REST, at the URIs google-cloud-compute's REST transport calls
(`compute_v1/services/*/transports/rest_base.py`).

Collections: networks, firewalls (global); subnetworks, routers (regional); backendServices, healthChecks,
urlMaps (global and regional); networkEndpointGroups (zonal, regional, global); forwardingRules (regional,
and global as globalForwardingRules); instanceGroups (zonal, and regional as regionInstanceGroups);
instances (zonal). Each has list and get, and aggregatedList where Compute has one;
backendServices.getHealth answers from `compute.backendServiceHealth`, routers.getRouterStatus from
`compute.routerStatus`. Every other method either mutates
(refused, 403) or is a read the twin does not model (501).

RPC names (for `apiFaults.method` and the request log) are the methods of Compute's REST reference, e.g.
`networks.list`, `regionBackendServices.getHealth`, `subnetworks.aggregatedList`
(https://cloud.google.com/compute/docs/reference/rest/v1).

Lists follow the reference of every Compute list method, e.g.
https://cloud.google.com/compute/docs/reference/rest/v1/networks/list: `maxResults` 0..500 (default 500),
`pageToken`/`nextPageToken`, `filter`, `orderBy` (`name` or `creationTimestamp desc`; by name otherwise),
and a response `{kind, id, items, nextPageToken, selfLink}`. Aggregated lists
(https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks/aggregatedList) map each scope
("global", "regions/R", "zones/Z") to `{<collection>: [...]}`, or to a NO_RESULTS_ON_PAGE warning for a
scope with nothing on that page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infradiag.twin.compute_names import SCOPE_TYPES, Placement, placement
from infradiag.twin.google_errors import GoogleError
from infradiag.twin.rest.compute_filter import compile_filter
from infradiag.twin.rest.core import (
    Call,
    Handler,
    Route,
    decode_token,
    encode_token,
    request_fingerprint,
    route,
    unimplemented,
)
from infradiag.twin.scenario import Resource, Scenario

BASE_URL = "https://www.googleapis.com/compute/v1/"
# The paths this API answers, as (api, path template) pairs the twin routes by (rest/__init__.py).
PATH_PREFIXES = (("compute", "/compute/v1"),)
MAX_RESULTS = 500


@dataclass(frozen=True)
class Kind:
    """One scenario collection: its REST resource name in each scope type, and its list kinds."""

    collection: str
    resources: dict[str, str]  # scope type -> REST resource name, e.g. "regions" -> "regionBackendServices"
    list_kind: str
    aggregated_kind: str | None
    # A scoped list whose `kind` differs from list_kind, by REST resource name.
    scoped_list_kinds: tuple[tuple[str, str], ...] = ()
    # Reads sent as POST on one item (besides _POST_READS) that the twin does not model: 501, not refused.
    post_reads: tuple[str, ...] = ()

    def list_kind_of(self, resource: str) -> str:
        """The `kind` of a list of `resource` (compute#regionInstanceGroupList: regionInstanceGroups)."""
        return dict(self.scoped_list_kinds).get(resource, self.list_kind)


# Kinds as each list's `kind` field documents them in the reference (note the plural in
# compute#healthChecksAggregatedList and compute#urlMapsAggregatedList).
KINDS = (
    Kind("networks", {"global": "networks"}, "compute#networkList", None),
    Kind("firewalls", {"global": "firewalls"}, "compute#firewallList", None),
    Kind(
        "subnetworks",
        {"regions": "subnetworks"},
        "compute#subnetworkList",
        "compute#subnetworkAggregatedList",
    ),
    Kind("routers", {"regions": "routers"}, "compute#routerList", "compute#routerAggregatedList"),
    Kind(
        "backendServices",
        {"global": "backendServices", "regions": "regionBackendServices"},
        "compute#backendServiceList",
        "compute#backendServiceAggregatedList",
    ),
    Kind(
        "healthChecks",
        {"global": "healthChecks", "regions": "regionHealthChecks"},
        "compute#healthCheckList",
        "compute#healthChecksAggregatedList",
    ),
    Kind(
        "networkEndpointGroups",
        {
            "zones": "networkEndpointGroups",
            "regions": "regionNetworkEndpointGroups",
            "global": "globalNetworkEndpointGroups",
        },
        "compute#networkEndpointGroupList",
        "compute#networkEndpointGroupAggregatedList",
    ),
    Kind(
        "urlMaps",
        {"global": "urlMaps", "regions": "regionUrlMaps"},
        "compute#urlMapList",
        "compute#urlMapsAggregatedList",
    ),
    # Instance groups are zonal or regional (regional managed instance groups); the aggregated list reports
    # both (https://cloud.google.com/compute/docs/reference/rest/v1/instanceGroups/aggregatedList).
    # listInstances is a read sent as POST
    # (https://cloud.google.com/compute/docs/reference/rest/v1/instanceGroups/listInstances).
    Kind(
        "instanceGroups",
        {"zones": "instanceGroups", "regions": "regionInstanceGroups"},
        "compute#instanceGroupList",
        "compute#instanceGroupAggregatedList",
        scoped_list_kinds=(("regionInstanceGroups", "compute#regionInstanceGroupList"),),
        post_reads=("listInstances",),
    ),
    # https://cloud.google.com/compute/docs/reference/rest/v1/instances/aggregatedList
    Kind("instances", {"zones": "instances"}, "compute#instanceList", "compute#instanceAggregatedList"),
    Kind(
        "forwardingRules",
        {"regions": "forwardingRules", "global": "globalForwardingRules"},
        "compute#forwardingRuleList",
        "compute#forwardingRuleAggregatedList",
    ),
)
_KIND_OF = {kind.collection: kind for kind in KINDS}
_SCOPE_PATHS = {"global": "global", "regions": "regions/{region}", "zones": "zones/{zone}"}
# Reads Compute answers that the scenario has no data for: served as UNIMPLEMENTED, never invented.
_POST_READS = ("testIamPermissions", "listNetworkEndpoints")


@dataclass(frozen=True)
class _Placed:
    placement: Placement
    resource: Resource


def _scope_of(call: Call) -> str:
    groups = call.match.groupdict()
    if groups.get("region"):
        return f"regions/{groups['region']}"
    if groups.get("zone"):
        return f"zones/{groups['zone']}"
    return "global"


def _max_results(query: Mapping[str, str]) -> int:
    raw = query.get("maxResults") or "0"
    try:
        size = int(raw)
    except ValueError:
        raise GoogleError("INVALID_ARGUMENT", f"Invalid value for field 'maxResults': '{raw}'.") from None
    if size < 0 or size > MAX_RESULTS:
        raise GoogleError(
            "INVALID_ARGUMENT",
            f"Invalid value for field 'maxResults': '{raw}'. Must be between 0 and {MAX_RESULTS}.",
        )
    return size or MAX_RESULTS


def _ordered(items: list[_Placed], order_by: str) -> list[_Placed]:
    text = " ".join(order_by.split())
    if text in ("", "name"):
        return sorted(items, key=lambda p: (p.placement.scope, p.placement.name))
    if text == "creationTimestamp desc":
        # RFC 3339 with one offset sorts as text; the name breaks ties stably.
        by_name = sorted(items, key=lambda p: p.placement.name)
        return sorted(by_name, key=lambda p: str(p.resource.get("creationTimestamp", "")), reverse=True)
    raise GoogleError(
        "INVALID_ARGUMENT",
        f"Invalid value for field 'orderBy': '{order_by}'. Only 'name' and 'creationTimestamp desc' are "
        "supported.",
    )


def _list_body(kind: str | None, path: str, items: Any, next_token: str | None) -> dict[str, Any]:
    """A Compute list answer as the reference writes it: `kind`, `id`, `items` (None: left out),
    `nextPageToken` when there is another page, and `selfLink`, in that order."""
    body: dict[str, Any] = {"kind": kind, "id": path}
    if items is not None:
        body["items"] = items
    if next_token:
        body["nextPageToken"] = next_token
    body["selfLink"] = BASE_URL + path
    return body


def _page(items: list[_Placed], call: Call) -> tuple[list[_Placed], str | None]:
    size = _max_results(call.query)
    fingerprint = request_fingerprint(
        call.match.group(0), call.query.get("filter", ""), call.query.get("orderBy", "")
    )
    token = call.query.get("pageToken") or ""
    offset = decode_token(token, fingerprint) if token else 0
    wanted = compile_filter(call.query.get("filter", ""))
    chosen = [p for p in items if wanted(p.resource)]
    ordered = _ordered(chosen, call.query.get("orderBy", ""))
    page = ordered[offset : offset + size]
    next_token = encode_token(offset + size, fingerprint) if offset + size < len(ordered) else None
    return page, next_token


class ComputeApi:
    """Routes of Compute v1 (api `compute`)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.placed: dict[str, list[_Placed]] = {
            kind.collection: [
                _Placed(placement(r, kind.collection), r) for r in getattr(scenario.compute, kind.collection)
            ]
            for kind in KINDS
        }
        regions = {scenario.region}
        zones: set[str] = set()
        for items in self.placed.values():
            for item in items:
                kind, _, where = item.placement.scope.partition("/")
                if kind == "regions":
                    regions.add(where)
                elif kind == "zones":
                    zones.add(where)
                    regions.add(where.rsplit("-", 1)[0])
        # The scopes an aggregated list reports on: every place the scenario mentions.
        self.scopes = {
            "global": ["global"],
            "regions": [f"regions/{r}" for r in sorted(regions)],
            "zones": [f"zones/{z}" for z in sorted(zones)],
        }

    # -- answers -----------------------------------------------------------------------------------------

    def _in_scope(self, kind: Kind, scope: str) -> list[_Placed]:
        return [p for p in self.placed[kind.collection] if p.placement.scope == scope]

    def _find(self, kind: Kind, call: Call) -> _Placed:
        return self._named(kind, _scope_of(call), call.match["name"], call)

    def _named(self, kind: Kind, scope: str, name: str, call: Call) -> _Placed:
        """The item `name` of `kind` in `scope`; NOT_FOUND in Compute's words otherwise."""
        for item in self._in_scope(kind, scope):
            if item.placement.name == name:
                return item
        project = call.match["project"]
        raise GoogleError(
            "NOT_FOUND", f"The resource 'projects/{project}/{scope}/{kind.collection}/{name}' was not found"
        )

    def _lister(self, kind: Kind, resource: str) -> Handler:
        def handle(call: Call) -> dict[str, Any]:
            scope = _scope_of(call)
            page, next_token = _page(self._in_scope(kind, scope), call)
            path = f"projects/{call.match['project']}/{scope}/{kind.collection}"
            # An empty page has no `items` at all.
            found = [p.resource for p in page] or None
            return _list_body(kind.list_kind_of(resource), path, found, next_token)

        return handle

    def _aggregated_lister(self, kind: Kind) -> Handler:
        def handle(call: Call) -> dict[str, Any]:
            page, next_token = _page(self.placed[kind.collection], call)
            items: dict[str, Any] = {}
            for scope_type in SCOPE_TYPES[kind.collection]:
                for scope in self.scopes[scope_type]:
                    found = [p.resource for p in page if p.placement.scope == scope]
                    items[scope] = {kind.collection: found} if found else {"warning": _no_results(scope)}
            path = f"projects/{call.match['project']}/aggregated/{kind.collection}"
            return _list_body(kind.aggregated_kind, path, dict(sorted(items.items())), next_token)

        return handle

    def _getter(self, kind: Kind) -> Handler:
        return lambda call: self._find(kind, call).resource

    def get_health(self, call: Call) -> dict[str, Any]:
        """backendServices.getHealth: a read sent as POST with the backend group in the body.

        https://cloud.google.com/compute/docs/reference/rest/v1/backendServices/getHealth
        """
        service = self._find(_KIND_OF["backendServices"], call)
        if not isinstance(call.body, dict) or not call.body.get("group"):
            raise GoogleError(
                "INVALID_ARGUMENT", "Required field 'group' not specified", legacy_reason="required"
            )
        health = self._health_of(service)
        return {"kind": "compute#backendServiceGroupHealth", **health}

    def _health_of(self, service: _Placed) -> Resource:
        table = self.scenario.compute.backendServiceHealth
        name = service.placement.name
        if name in table:
            return table[name]
        # Keys may also be written as the service's selfLink or relative name.
        suffix = f"{service.placement.scope}/backendServices/{name}"
        return next((health for key, health in table.items() if key.endswith(suffix)), {})

    def router_status(self, call: Call) -> dict[str, Any]:
        """routers.getRouterStatus: a GET on one router, answered from `compute.routerStatus`.

        https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus: a
        RouterStatusResponse, `kind` compute#routerStatusResponse and `result` a RouterStatus. A router the
        scenario gives no status answers with a status that reports nothing but its network: the twin never
        invents runtime data (natStatus, bgpPeerStatus, bestRoutes are left out).
        """
        router = self._find(_KIND_OF["routers"], call)
        region = call.match["region"]
        for entry in self.scenario.compute.routerStatus:
            if entry.router == router.placement.name and _last(entry.region) == region:
                return {"kind": "compute#routerStatusResponse", "result": entry.result}
        result: dict[str, Any] = {}
        if router.resource.get("network"):
            result["network"] = router.resource["network"]
        return {"kind": "compute#routerStatusResponse", "result": result}

    # -- effective firewalls ----------------------------------------------------------------------------

    def _effective(self, call: Call, network: str, region: str | None) -> dict[str, Any]:
        """The VPC firewall rules of `network` and the firewall policies in effect on it: the hierarchical
        ones in the scenario's order (organization first), the global network policies associated with the
        network and, with a region, that region's regional network policies associated with it."""
        self._named(_KIND_OF["networks"], "global", network, call)
        compute = self.scenario.compute
        rules = [
            f for f in compute.firewalls if _last(f.get("network", "global/networks/default")) == network
        ]
        policies: list[dict[str, Any]] = [
            _effective_policy(p, "HIERARCHY") for p in compute.hierarchicalFirewallPolicies
        ]
        policies += [
            _effective_policy(p, "NETWORK")
            for p in compute.networkFirewallPolicies
            if _associated(p, network)
        ]
        if region is not None:
            policies += [
                _effective_policy(p, "NETWORK_REGIONAL")
                for p in compute.regionNetworkFirewallPolicies
                if _associated(p, network) and _last(p.get("region", "")) == region
            ]
        body: dict[str, Any] = {}
        if rules:
            body["firewalls"] = rules
        if policies:
            body["firewallPolicys"] = policies
        return body

    def network_effective_firewalls(self, call: Call) -> dict[str, Any]:
        """networks.getEffectiveFirewalls: VPC rules, hierarchical and global network firewall policies.

        https://cloud.google.com/compute/docs/reference/rest/v1/networks/getEffectiveFirewalls ("It returns
        Global Network Firewall Policies and Hierarchical Firewall Policies").
        """
        return self._effective(call, call.match["name"], None)

    def region_effective_firewalls(self, call: Call) -> dict[str, Any]:
        """regionNetworkFirewallPolicies.getEffectiveFirewalls: the same plus the region's regional network
        firewall policies; `network` (a name or URL) is a required query parameter.

        https://cloud.google.com/compute/docs/reference/rest/v1/regionNetworkFirewallPolicies/getEffectiveFirewalls
        """
        network = call.query.get("network") or ""
        if not network:
            raise GoogleError(
                "INVALID_ARGUMENT", "Required field 'network' not specified", legacy_reason="required"
            )
        return self._effective(call, _last(network), call.match["region"])

    # -- the route table ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        project = "/compute/v1/projects/{project}"
        # Before the networks' generic `{verb}` routes, which would answer them as unimplemented.
        table: list[Route] = [
            route(
                "compute",
                "networks.getEffectiveFirewalls",
                "GET",
                f"{project}/global/networks/{{name}}/getEffectiveFirewalls",
                self.network_effective_firewalls,
                "compute.networks.getEffectiveFirewalls",
            ),
            route(
                "compute",
                "regionNetworkFirewallPolicies.getEffectiveFirewalls",
                "GET",
                f"{project}/regions/{{region}}/firewallPolicies/getEffectiveFirewalls",
                self.region_effective_firewalls,
                "compute.networks.getRegionEffectiveFirewalls",
            ),
            # Before the routers' generic GET `{verb}` route (unimplemented reads).
            route(
                "compute",
                "routers.getRouterStatus",
                "GET",
                f"{project}/regions/{{region}}/routers/{{name}}/getRouterStatus",
                self.router_status,
                "compute.routers.get",
            ),
        ]
        for kind in KINDS:
            if kind.aggregated_kind is not None:
                name = f"{kind.collection}.aggregatedList"
                table.append(
                    route(
                        "compute",
                        name,
                        "GET",
                        f"{project}/aggregated/{kind.collection}",
                        self._aggregated_lister(kind),
                        f"compute.{kind.collection}.list",
                    )
                )
            for scope_type, resource in kind.resources.items():
                table += self._scoped_routes(
                    kind, resource, f"{project}/{_SCOPE_PATHS[scope_type]}/{kind.collection}"
                )
        table.append(
            route(
                "compute",
                "subnetworks.listUsable",
                "GET",
                f"{project}/aggregated/subnetworks/listUsable",
                unimplemented("subnetworks.listUsable"),
                "compute.subnetworks.list",
            )
        )
        return table

    def _scoped_routes(self, kind: Kind, resource: str, base: str) -> list[Route]:
        item = f"{base}/{{name}}"
        perm = f"compute.{resource}"
        routes = [
            route("compute", f"{resource}.list", "GET", base, self._lister(kind, resource), f"{perm}.list"),
            route("compute", f"{resource}.insert", "POST", base, None, f"{perm}.create"),
        ]
        if kind.collection == "backendServices":
            routes += [
                route(
                    "compute",
                    f"{resource}.listUsable",
                    "GET",
                    f"{base}/listUsable",
                    unimplemented(f"{resource}.listUsable"),
                    f"{perm}.list",
                ),
                route(
                    "compute",
                    f"{resource}.getHealth",
                    "POST",
                    f"{item}/getHealth",
                    self.get_health,
                    f"{perm}.get",
                ),
            ]
        routes += [
            route("compute", f"{resource}.get", "GET", item, self._getter(kind), f"{perm}.get"),
            route("compute", f"{resource}.delete", "DELETE", item, None, f"{perm}.delete"),
            route("compute", f"{resource}.patch", "PATCH", item, None, f"{perm}.update"),
            route("compute", f"{resource}.update", "PUT", item, None, f"{perm}.update"),
        ]
        routes += [
            route(
                "compute",
                f"{resource}.{verb}",
                "POST",
                f"{item}/{verb}",
                unimplemented(f"{resource}.{verb}"),
                f"{perm}.get",
            )
            for verb in (*_POST_READS, *kind.post_reads)
        ]
        routes += [
            route("compute", f"{resource}.{{verb}}", "POST", f"{item}/{{verb}}", None, f"{perm}.update"),
            route(
                "compute",
                f"{resource}.{{verb}}",
                "GET",
                f"{item}/{{verb}}",
                _unimplemented_verb(resource),
                f"{perm}.get",
            ),
        ]
        return routes


def _last(url: Any) -> str:
    return str(url).rstrip("/").rsplit("/", 1)[-1]


def _associated(policy: Resource, network: str) -> bool:
    # FirewallPolicyAssociation.attachmentTarget: the network's URL.
    return any(_last(a.get("attachmentTarget", "")) == network for a in policy.get("associations") or [])


def _effective_policy(policy: Resource, kind: str) -> dict[str, Any]:
    """One entry of `firewallPolicys` (EffectiveFirewallPolicy): name, type, shortName and displayName where
    the policy has them (hierarchical policies: their numeric name and shortName), and its rules."""
    entry: dict[str, Any] = {"name": policy["name"], "type": kind}
    for key in ("shortName", "displayName"):
        if key in policy:
            entry[key] = policy[key]
    entry["rules"] = policy.get("rules") or []
    return entry


def _unimplemented_verb(resource: str) -> Handler:
    def handle(call: Call) -> dict[str, Any]:
        return unimplemented(f"{resource}.{call.match['verb']}")(call)

    return handle


def _no_results(scope: str) -> dict[str, Any]:
    return {
        "code": "NO_RESULTS_ON_PAGE",
        "message": f"There are no results for scope '{scope}' on this page.",
        "data": [{"key": "scope", "value": scope}],
    }
