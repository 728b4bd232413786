"""Recorded answers and probe results -> a scenario (docs/scenario-format.md, v1) that replays them.

Each answer goes where the scenario format keeps the resource it carries, as Google wrote it: a list's items
under its collection, an aggregated list's items flattened, getIamPolicy under `iam`, getHealth under
`compute.backendServiceHealth`, getRouterStatus under `compute.routerStatus`, getEffectiveFirewalls split
into the VPC rules and the policies in effect (hierarchical ones into the twin-only
`compute.hierarchicalFirewallPolicies`). A refused read becomes an `apiFaults` entry when every call of that
method was refused (so the replay gives the same unknown); what the format cannot express is returned as a
note for the file's header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from infradiag.collect.capture_transport import Exchange
from infradiag.evidence import ProbeResult, Unknown
from infradiag.probe.signatures import recognise
from infradiag.target import Target

_P = r"projects/(?P<project>[^/]+)"
_RUN = rf"/v2/{_P}/locations/(?P<location>[^/]+)"
_COMPUTE = rf"/compute/v1/{_P}"
_COMPUTE_LISTS = "firewalls|subnetworks|routers|networks"
_AGGREGATED = "backendServices|healthChecks|networkEndpointGroups|instanceGroups|instances"
# The probes' smallest wait worth replaying: below it, loopback and scheduling noise.
_MIN_DELAY_MS = 20
# tls-expiring accepts 0 < days <= 398 (docs/scenario-format.md, "Endpoints").
_MAX_EXPIRES_DAYS = 398


@dataclass
class Built:
    """The scenario, and what it could not hold."""

    scenario: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Draft:
    run: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    vpcaccess: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    compute: dict[str, Any] = field(default_factory=dict)
    sql: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    monitoring: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    iam: dict[str, dict[str, Any]] = field(default_factory=dict)
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    networks_in_effect: set[str] = field(default_factory=set)  # networks getEffectiveFirewalls answered for
    notes: list[str] = field(default_factory=list)

    def add(self, block: dict[str, Any], key: str, items: list[dict[str, Any]]) -> None:
        """Append `items` to block[key], skipping a resource already there (by selfLink or name)."""
        found = block.setdefault(key, [])
        seen = {_identity(item) for item in found}
        for item in items:
            if _identity(item) not in seen:
                seen.add(_identity(item))
                found.append(item)


def _identity(resource: dict[str, Any]) -> str:
    return str(resource.get("selfLink") or resource.get("name") or id(resource))


def _strip_kind(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "kind"}


# What to do with a read's successful answer, given the match of its path.
Placer = Callable[[_Draft, "re.Match[str]", Exchange], None]


def _run_list(key: str) -> Placer:
    return lambda d, m, e: d.add(d.run, key, (e.answer or {}).get(key, []))


def _iam(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    d.iam.setdefault(e.path.removeprefix("/v2/").removesuffix(":getIamPolicy"), e.answer or {})


def _connectors(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    d.add(d.vpcaccess, "connectors", (e.answer or {}).get("connectors", []))


def _compute_list(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    d.add(d.compute, m["collection"], [_strip_kind(i) for i in (e.answer or {}).get("items", [])])


def _compute_get(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    d.add(d.compute, m["collection"], [_strip_kind(e.answer or {})])


def _aggregated(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    collection = m["collection"]
    for scoped in ((e.answer or {}).get("items") or {}).values():
        d.add(d.compute, collection, [_strip_kind(i) for i in scoped.get(collection, [])])


def _health(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    # The format keeps one health per backend service, whatever the group asked (rest/compute.py get_health).
    d.compute.setdefault("backendServiceHealth", {}).setdefault(m["name"], _strip_kind(e.answer or {}))


def _router_status(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    result = (e.answer or {}).get("result") or {}
    entries = d.compute.setdefault("routerStatus", [])
    if not any(x["router"] == m["name"] and x["region"] == m["region"] for x in entries):
        entries.append({"router": m["name"], "region": m["region"], "result": result})


def _effective(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    """getEffectiveFirewalls: its VPC rules are firewalls; each policy goes back where the twin (and Google)
    finds it: hierarchical ones to the twin-only list, network ones associated with the network asked."""
    answer = e.answer or {}
    d.add(d.compute, "firewalls", [_strip_kind(f) for f in answer.get("firewalls", [])])
    network_url = _url_of(m.groupdict().get("name") or (e.query.get("network") or [""])[0], m["project"])
    d.networks_in_effect.add(network_url)
    association = {"name": f"infradiag-capture-{_last(network_url)}", "attachmentTarget": network_url}
    for policy in answer.get("firewallPolicys", []):
        kind = policy.get("type")
        body = {k: v for k, v in policy.items() if k not in ("type", "priority")}
        if kind == "HIERARCHY":
            d.add(d.compute, "hierarchicalFirewallPolicies", [body])
            continue
        key = "regionNetworkFirewallPolicies" if kind == "NETWORK_REGIONAL" else "networkFirewallPolicies"
        if kind == "NETWORK_REGIONAL":
            body["region"] = m["region"]
        kept = next((p for p in d.compute.get(key, []) if _identity(p) == _identity(body)), None)
        if kept is None:
            d.add(d.compute, key, [{**body, "associations": [association]}])
        elif association not in kept["associations"]:  # one policy in effect on several networks
            kept["associations"].append(association)


def _sql(d: _Draft, m: re.Match[str], e: Exchange) -> None:
    d.add(d.sql, "instances", [_strip_kind(i) for i in (e.answer or {}).get("items", [])])


_COMPUTE_URL = "https://www.googleapis.com/compute/v1"


@dataclass(frozen=True)
class _Read:
    """A REST read a triage makes: its path, the twin's name for it in `apiFaults` (docs/scenario-format.md,
    "API faults"; it may name the path's groups, as "{collection}.list"), and where its answer goes."""

    pattern: re.Pattern[str]
    api: str
    method: str
    place: Placer
    verbs: tuple[str, ...] = ("GET",)


def _read(path: str, api: str, method: str, place: Placer, verbs: tuple[str, ...] = ("GET",)) -> _Read:
    return _Read(re.compile(path), api, method, place, verbs)


# No path matches two of these whole, so their order does not matter.
_READS: tuple[_Read, ...] = (
    _read(rf"{_RUN}/services", "run", "ListServices", _run_list("services")),
    _read(rf"{_RUN}/services/[^/]+/revisions", "run", "ListRevisions", _run_list("revisions")),
    _read(rf"{_RUN}/jobs", "run", "ListJobs", _run_list("jobs")),
    _read(rf"{_RUN}/services/[^/]+:getIamPolicy", "iam", "GetIamPolicy", _iam, ("GET", "POST")),
    _read(rf"/v1/{_P}/locations/[^/]+/connectors", "vpcaccess", "ListConnectors", _connectors),
    _read(
        rf"{_COMPUTE}/(?:global|regions/[^/]+)/(?P<collection>{_COMPUTE_LISTS})",
        "compute",
        "{collection}.list",
        _compute_list,
    ),
    _read(rf"{_COMPUTE}/global/(?P<collection>networks)/[^/]+", "compute", "networks.get", _compute_get),
    _read(
        rf"{_COMPUTE}/aggregated/(?P<collection>{_AGGREGATED})",
        "compute",
        "{collection}.aggregatedList",
        _aggregated,
    ),
    _read(
        rf"{_COMPUTE}/global/backendServices/(?P<name>[^/]+)/getHealth",
        "compute",
        "backendServices.getHealth",
        _health,
        ("POST",),
    ),
    _read(
        rf"{_COMPUTE}/regions/[^/]+/backendServices/(?P<name>[^/]+)/getHealth",
        "compute",
        "regionBackendServices.getHealth",
        _health,
        ("POST",),
    ),
    _read(
        rf"{_COMPUTE}/regions/(?P<region>[^/]+)/routers/(?P<name>[^/]+)/getRouterStatus",
        "compute",
        "routers.getRouterStatus",
        _router_status,
    ),
    _read(
        rf"{_COMPUTE}/global/networks/(?P<name>[^/]+)/getEffectiveFirewalls",
        "compute",
        "networks.getEffectiveFirewalls",
        _effective,
    ),
    _read(
        rf"{_COMPUTE}/regions/(?P<region>[^/]+)/firewallPolicies/getEffectiveFirewalls",
        "compute",
        "regionNetworkFirewallPolicies.getEffectiveFirewalls",
        _effective,
    ),
    _read(r"/sql/v1(?:beta4)?/projects/(?P<project>[^/]+)/instances", "sql", "instances.list", _sql),
)


def _url_of(network: str, project: str) -> str:
    if network.startswith("https://"):
        return network
    if network.startswith("projects/"):
        return f"{_COMPUTE_URL}/{network}"
    return f"{_COMPUTE_URL}/projects/{project}/global/networks/{network}"


def _last(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _fault_name(exchange: Exchange) -> tuple[str, str] | None:
    if exchange.transport == "grpc":
        return "monitoring", exchange.path.rsplit("/", 1)[-1]
    for read in _READS:
        if match := read.pattern.fullmatch(exchange.path):
            return read.api, read.method.format(**match.groupdict())
    return None


def _place(draft: _Draft, exchange: Exchange) -> None:
    if exchange.transport == "grpc":
        answer = exchange.answer or {}
        if exchange.path.endswith("/ListTimeSeries"):
            for series in answer.get("timeSeries", []):
                _merge_series(draft, series)
        elif exchange.path.endswith("/ListAlertPolicies"):
            draft.add(draft.monitoring, "alertPolicies", answer.get("alertPolicies", []))
        return
    for read in _READS:
        if exchange.verb in read.verbs and (match := read.pattern.fullmatch(exchange.path)):
            read.place(draft, match, exchange)
            return
    draft.notes.append(f"an answer of {exchange.verb} {exchange.path} has no place in the scenario format")


def _merge_series(draft: _Draft, series: dict[str, Any]) -> None:
    """One time series per metric and resource; the windows of several signals (e.g. all requests and the
    5xx ones) meet here, their points merged by interval."""
    key = repr(
        (series.get("metric"), series.get("resource"), series.get("metricKind"), series.get("valueType"))
    )
    kept = draft.series.setdefault(key, {**series, "points": []})
    seen = {repr(p.get("interval")) for p in kept["points"]}
    kept["points"] += [p for p in series.get("points", []) if repr(p.get("interval")) not in seen]


def _newest_first(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(points, key=lambda p: str((p.get("interval") or {}).get("endTime", "")), reverse=True)


def _faults(exchanges: list[Exchange], notes: list[str]) -> list[dict[str, Any]]:
    """An apiFaults entry per method whose every call was refused; a refusal among answers is a note."""
    outcomes: dict[tuple[str, str], list[Exchange]] = {}
    for exchange in exchanges:
        name = _fault_name(exchange)
        if name is not None:
            outcomes.setdefault(name, []).append(exchange)
    faults = []
    for (api, method), calls in outcomes.items():
        refused = [c for c in calls if c.error is not None]
        if not refused:
            continue
        if len(refused) < len(calls):
            notes.append(
                f"{api} {method}: {len(refused)} of {len(calls)} calls refused ({refused[0].error}); "
                "the replay answers them all"
            )
            continue
        fault: dict[str, Any] = {"api": api, "method": method, "error": refused[0].error}
        if refused[0].reason and refused[0].error in ("PERMISSION_DENIED", "RESOURCE_EXHAUSTED"):
            fault["reason"] = refused[0].reason
        faults.append(fault)
    return faults


def endpoint_behaviour(probe: ProbeResult) -> dict[str, Any] | None:
    """What the scenario says for the path a probe saw, or None when the format cannot express it (a DNS
    failure, a probe the deadline left no time to start)."""
    outcome = probe.outcome
    behaviour: dict[str, Any] = {}
    if outcome == "dns_error" or (outcome == "timeout" and probe.latency_ms == 0):
        return None
    if outcome == "connect_refused":
        return {"fault": "refuse"}
    if outcome == "connect_reset":
        return {"fault": "reset"}
    if outcome == "timeout":
        return {"fault": "slow-body" if probe.status is not None else "hang"}
    if outcome == "tls_error":
        expired = "expired" in (probe.tls_error or probe.detail)
        return {"fault": "tls-expired" if expired else "tls-untrusted"}
    if probe.status is not None:
        behaviour["status"] = probe.status
    if probe.body_json is not None:
        behaviour["json"] = probe.body_json
    elif probe.body_excerpt is not None:
        behaviour["body"] = probe.body_excerpt
    wait = probe.phases.first_byte
    if wait is not None and wait >= _MIN_DELAY_MS:
        behaviour["delayMs"] = int(wait)
    days = probe.tls_expires_in_days
    if probe.tls_verified and days is not None and 0 < days <= _MAX_EXPIRES_DAYS:
        behaviour["fault"] = "tls-expiring"
        behaviour["expiresInDays"] = round(days, 3)
    return behaviour


def _endpoints(probes: list[ProbeResult], notes: list[str]) -> dict[str, dict[str, Any]]:
    endpoints: dict[str, dict[str, Any]] = {}
    for probe in probes:
        behaviour = endpoint_behaviour(probe)
        if behaviour is None:
            notes.append(
                f"probe of {probe.service} {probe.path}: {probe.outcome} ({probe.detail}) not replayable"
            )
            continue
        body = str(behaviour.get("body", ""))
        if probe.served_by == "gfe" and recognise(body.encode()) is None:
            # The excerpt keeps a page's text, not its markup (e.g. a GFE error page's <title>).
            notes.append(
                f"probe of {probe.service} {probe.path}: the markup of Google's error page is not kept"
            )
        # A probe of another URL (a custom domain) answers for the service at that URL's path.
        path = probe.path if probe.path.startswith("/") else urlsplit(probe.path).path or "/"
        endpoints.setdefault(probe.service, {}).setdefault(path, behaviour)
    return endpoints


def _only_selected(draft: _Draft, selected: set[str]) -> None:
    """Keep the services the triage looked at (the config's `services`) and their revisions, as the live
    evidence does: a replay by `--scenario` has no such list."""
    services = draft.run.get("services")
    if services is not None:
        draft.run["services"] = [s for s in services if str(s.get("name", "")).rsplit("/", 1)[-1] in selected]
    revisions = draft.run.get("revisions")
    if revisions is not None:
        draft.run["revisions"] = [r for r in revisions if _service_of(r) in selected]


def _service_of(revision: dict[str, Any]) -> str | None:
    match = re.search(r"/services/([^/]+)/revisions/", str(revision.get("name", "")))
    return match[1] if match else None


_NUMBERED = re.compile(r"projects/(\d+)/")


def _project_number(exchanges: list[Exchange]) -> str | None:
    """The project number, where an answer names a resource by it (Google does, e.g. in Cloud Run's
    connector and revision references): a scenario must declare it for such names to be its own. Only
    Cloud Run's and VPC Access's answers are searched: Compute's may name other projects (a Shared VPC)."""
    for exchange in exchanges:
        if not exchange.path.startswith(("/v2/", "/v1/")):
            continue
        if exchange.answer is not None and (found := _NUMBERED.search(json.dumps(exchange.answer))):
            return found[1]
    return None


def _unanswered(
    unknowns: list[Unknown], exchanges: list[Exchange], faults: list[dict[str, Any]]
) -> list[str]:
    """Reads that failed without an answer to record (a timeout, no connection): a timed-out API none of whose
    calls answered becomes a DEADLINE_EXCEEDED fault (added to `faults`), which the replay reports as the
    same unknown; every other such failure is a note."""
    refused = {fault["api"] for fault in faults}
    answered = {name[0] for e in exchanges if e.error is None and (name := _fault_name(e)) is not None}
    notes = []
    for unknown in unknowns:
        if unknown.source in refused:
            continue
        if unknown.reason == "DEADLINE_EXCEEDED" and unknown.source not in answered:
            faults.append({"api": unknown.source, "error": "DEADLINE_EXCEEDED"})
            refused.add(unknown.source)
            continue
        notes.append(f"{unknown.source}: {unknown.reason}: {unknown.detail or unknown.consequence}")
    return notes


def scenario_of(
    target: Target,
    name: str,
    now: datetime,
    exchanges: list[Exchange],
    probes: list[ProbeResult],
    unknowns: list[Unknown],
) -> Built:
    """The scenario of what `exchanges` answered and `probes` saw, at `now` (not yet redacted), with the
    reads that failed (`unknowns`) as faults where the format can replay them, else as notes."""
    draft = _Draft()
    for exchange in exchanges:
        if exchange.error is None:
            _place(draft, exchange)
    faults = _faults(exchanges, draft.notes)
    draft.notes += _unanswered(unknowns, exchanges, faults)
    # The twin serves getEffectiveFirewalls only for a network it lists; one that answered exists, and
    # networks.get (read only when a network policy is in effect) may not have been called: its name and
    # selfLink, which any networks.get answer holds, stand for it.
    listed = {_identity(n) for n in draft.compute.get("networks", [])}
    for url in sorted(draft.networks_in_effect - listed):
        draft.add(draft.compute, "networks", [{"name": _last(url), "selfLink": url}])
    if draft.series:
        draft.monitoring["timeSeries"] = [
            {**s, "points": _newest_first(s["points"])} for s in draft.series.values() if s["points"]
        ]
    if target.services is not None:
        _only_selected(draft, set(target.services))
    with_uri = {s.get("name", "").rsplit("/", 1)[-1] for s in draft.run.get("services", []) if s.get("uri")}
    endpoints = {k: v for k, v in _endpoints(probes, draft.notes).items() if k in with_uri}
    scenario: dict[str, Any] = {
        "apiVersion": "infradiag/twin-v1",
        "name": re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "capture",
        "summary": f"captured from {target.environment} by infradiag capture",
        "project": target.project,
        "region": target.region,
        **({"projectNumber": number} if (number := _project_number(exchanges)) else {}),
        "now": now.isoformat().replace("+00:00", "Z"),
    }
    blocks = {
        "run": draft.run,
        "vpcaccess": draft.vpcaccess,
        "compute": draft.compute,
        "sql": draft.sql,
        "monitoring": draft.monitoring,
        "iam": draft.iam,
        "endpoints": endpoints,
        "apiFaults": faults,
    }
    scenario.update({key: value for key, value in blocks.items() if value})
    return Built(scenario, draft.notes)
