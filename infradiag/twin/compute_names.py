"""Where a Compute resource of a scenario lives: its scope (global, regions/R, zones/Z) and name.

A scenario writes a Compute resource with its `name` and either its `selfLink` or, for regional and zonal
resources, `region` / `zone` (a URL, as Compute returns it, or a bare name). Both forms resolve to the same
Placement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The scope types each scenario collection can live in, as Compute v1 serves them
# (https://cloud.google.com/compute/docs/reference/rest/v1): e.g. backend services are global or regional,
# network endpoint groups zonal, regional or global.
SCOPE_TYPES: dict[str, tuple[str, ...]] = {
    "networks": ("global",),
    "firewalls": ("global",),
    "subnetworks": ("regions",),
    "routers": ("regions",),
    "backendServices": ("global", "regions"),
    "healthChecks": ("global", "regions"),
    "networkEndpointGroups": ("zones", "regions", "global"),
    "urlMaps": ("global", "regions"),
    "forwardingRules": ("regions", "global"),
    "instanceGroups": ("zones", "regions"),
    "instances": ("zones",),
    # Network firewall policies: https://cloud.google.com/compute/docs/reference/rest/v1/networkFirewallPolicies
    # (global) and .../regionNetworkFirewallPolicies (regional).
    "networkFirewallPolicies": ("global",),
    "regionNetworkFirewallPolicies": ("regions",),
}
# The collection a resource's selfLink names, where it differs from the scenario's key: both kinds of network
# firewall policy live at .../firewallPolicies/NAME.
URL_COLLECTIONS = {
    "networkFirewallPolicies": "firewallPolicies",
    "regionNetworkFirewallPolicies": "firewallPolicies",
}

_SELF_LINK = re.compile(
    r"(?:^|/)projects/(?P<project>[^/]+)/(?P<scope>global|regions/[^/]+|zones/[^/]+)"
    r"/(?P<collection>[A-Za-z]+)/(?P<name>[^/]+)$"
)
# Compute resource names: RFC 1035 labels (https://cloud.google.com/compute/docs/naming-resources).
NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


class PlacementError(ValueError):
    """A resource whose place cannot be told; `key` is the field to point at."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem
        self.fix = fix


@dataclass(frozen=True)
class Placement:
    project: str | None  # from the selfLink; None when written without one
    scope: str  # "global" | "regions/R" | "zones/Z"
    name: str

    @property
    def scope_type(self) -> str:
        return self.scope.split("/", 1)[0]

    def relative(self, project: str, collection: str) -> str:
        """`projects/P/SCOPE/COLLECTION/NAME`, the form Compute's NOT_FOUND messages use."""
        return f"projects/{project}/{self.scope}/{collection}/{self.name}"


def _last_segment(value: Any) -> str:
    return str(value).rstrip("/").rsplit("/", 1)[-1]


def placement(resource: dict[str, Any], collection: str) -> Placement:
    """The scope and name of a scenario's Compute resource; PlacementError when they cannot be told."""
    allowed = SCOPE_TYPES[collection]
    self_link = resource.get("selfLink")
    if "name" not in resource:
        # Compute always returns `name`; the twin serves resources as written, so it must be there.
        last = f": {_last_segment(self_link)}" if self_link is not None else ""
        raise PlacementError("name", f"a resource of compute.{collection} needs a name", f"add `name{last}`")
    if self_link is not None:
        match = _SELF_LINK.search(str(self_link))
        in_url = URL_COLLECTIONS.get(collection, collection)
        if match is None or match["collection"] != in_url:
            raise PlacementError(
                "selfLink",
                f"selfLink {self_link!r} is not the URL of one of {collection}",
                f"write https://www.googleapis.com/compute/v1/projects/PROJECT/SCOPE/{in_url}/NAME",
            )
        found = Placement(match["project"], match["scope"], match["name"])
        if str(resource["name"]) != found.name:
            raise PlacementError(
                "name",
                f"name {resource['name']!r} differs from the selfLink's {found.name!r}",
                "make them agree",
            )
    else:
        if "zone" in resource:
            scope = f"zones/{_last_segment(resource['zone'])}"
        elif "region" in resource:
            scope = f"regions/{_last_segment(resource['region'])}"
        else:
            scope = "global"
        found = Placement(None, scope, str(resource["name"]))
    if found.scope_type not in allowed:
        where = " or ".join({"global": "global", "regions": "regional", "zones": "zonal"}[t] for t in allowed)
        key = "selfLink" if self_link is not None else "name"
        hint = {"regions": "region: REGION", "zones": "zone: ZONE", "global": "no region or zone"}
        raise PlacementError(
            key,
            f"compute.{collection} are {where}, not {found.scope_type}",
            "write " + " or ".join(hint[t] for t in allowed) + ", or a selfLink",
        )
    return found
