"""The capacity model of what-if mode: a resource's Monitoring series once a change alters its capacity,
at the same observed load.

Assumptions (each one the simplest the evidence supports; the re-triage judges the projected series with the
same playbooks and thresholds as the real ones):

- The load stays what was observed: a change alters capacity, never demand. Series of load itself
  (throughput bytes, connection counts, request counts, Cloud Run instance counts) are kept as they are.
- Serverless VPC Access connector (machineType, minInstances, maxInstances): its capacity is its documented
  throughput, per-instance Mbps of its machine type times maxInstances (`connector_ceiling_mbps` of
  infradiag/fixes/sizing.py, from https://cloud.google.com/vpc/docs/serverless-vpc-access). CPU utilisation
  is load over capacity, so it is scaled by old capacity / new capacity. The instance count carries the same
  throughput on the new machine type: scaled by old per-instance Mbps / new per-instance Mbps, rounded up, and
  kept within the new minInstances-maxInstances.
- Cloud SQL tier (settings.tier): CPU utilisation is scaled by old vCPUs / new vCPUs (the same work over more
  cores). The vCPUs are read from the tier's name (db-custom-CPUS-MB, db-n1-*-CPUS, db-perf-optimized-N-CPUS);
  a shared-core or unknown tier cannot be projected, and the change is then reported as not provable.
  max_connections follows the new tier's memory through the evidence itself, not through a series.
- Cloud SQL activation policy NEVER -> ALWAYS: the instance starts, so cloudsql.googleapis.com/database/up
  reads 1 where it read 0.
- Cloud Run max instances (template.scaling.maxInstanceCount, or the service-level scaling.maxInstanceCount):
  the load is the peak of active instances observed (run.googleapis.com/container/instance_count, state
  active, summed over the service's revisions). When the new maximum is above that peak, Cloud Run has an
  instance for every request of that load, so its own "no instance available" answer (HTTP 429 with the body
  `Rate exceeded.`, https://cloud.google.com/run/docs/troubleshooting#429) stops: those endpoints of the
  service answer 200 instead, the app's own answer being unknown (the re-triage judges the capacity cause
  alone). Without an instance count series the model cannot tell, and the change is not provable.
- A utilisation never exceeds 1.0 (a smaller capacity saturates, it cannot go past full).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from typing import Any

from infradiag.evidence.metrics import (
    CONNECTOR_CPU,
    CONNECTOR_INSTANCES,
    RUN_INSTANCE_COUNT,
    SQL_CPU,
    SQL_UP,
)
from infradiag.fixes.sizing import CONNECTOR_MBPS_PER_INSTANCE, connector_ceiling_mbps
from infradiag.twin.scenario import EndpointBehaviour

Resource = dict[str, Any]
# A projection: the scenario's series once projected, and one note per projected series kind; or why not.
Projection = tuple[list[Resource], list[str]] | str

# https://cloud.google.com/vpc/docs/reference/vpcaccess/rest/v1/projects.locations.connectors: "machineType:
# Machine type of VM Instance underlying connector. Default is e2-micro".
DEFAULT_CONNECTOR_MACHINE = "e2-micro"

# https://cloud.google.com/sql/docs/postgres/instance-settings: db-custom-CPUS-MEMORY_MB, the legacy
# db-n1-standard-CPUS / highmem / highcpu, and Enterprise Plus db-perf-optimized-N-CPUS.
_TIER_VCPUS = (
    re.compile(r"^db-custom-(\d+)-\d+$"),
    re.compile(r"^db-n1-(?:standard|highmem|highcpu)-(\d+)$"),
    re.compile(r"^db-perf-optimized-N-(\d+)$"),
)


def tier_vcpus(tier: str) -> int | None:
    """The vCPUs of a Cloud SQL tier, from its name; None for a shared-core or unknown tier."""
    for pattern in _TIER_VCPUS:
        match = pattern.match(tier)
        if match:
            return int(match.group(1))
    return None


def _scaled_value(value: Resource, factor: float, cap: float | None) -> Resource:
    """A point's TypedValue with every measured quantity times `factor` (a distribution's buckets too, so its
    percentiles scale exactly), at most `cap`."""
    scaled = copy.deepcopy(value)
    if "doubleValue" in scaled:
        number = float(scaled["doubleValue"]) * factor
        scaled["doubleValue"] = min(number, cap) if cap is not None else number
    elif "int64Value" in scaled:
        scaled["int64Value"] = str(round(int(scaled["int64Value"]) * factor))
    elif "distributionValue" in scaled:
        dist = scaled["distributionValue"]
        dist["mean"] = float(dist.get("mean", 0.0)) * factor
        dist["sumOfSquaredDeviation"] = float(dist.get("sumOfSquaredDeviation", 0.0)) * factor**2
        if "range" in dist:
            dist["range"] = {k: float(v) * factor for k, v in dist["range"].items()}
        options = dist.get("bucketOptions") or {}
        if "linearBuckets" in options:
            linear = options["linearBuckets"]
            linear["width"] = float(linear["width"]) * factor
            linear["offset"] = float(linear.get("offset", 0)) * factor
        elif "exponentialBuckets" in options:
            options["exponentialBuckets"]["scale"] = float(options["exponentialBuckets"]["scale"]) * factor
        elif "explicitBuckets" in options:
            bounds = options["explicitBuckets"].get("bounds", [])
            options["explicitBuckets"]["bounds"] = [float(b) * factor for b in bounds]
    return scaled


def _map_points(series: Resource, value: Callable[[Resource], Resource]) -> Resource:
    changed = copy.deepcopy(series)
    changed["points"] = [{**point, "value": value(point["value"])} for point in series.get("points", [])]
    return changed


def _project(
    timeseries: list[Resource],
    matches: Callable[[Resource], bool],
    by_metric: dict[str, Callable[[Resource], Resource]],
) -> tuple[list[Resource], int]:
    """Every series of a matching resource whose metric is in `by_metric`, with its points' values mapped."""
    out, projected = [], 0
    for series in timeseries:
        mapper = by_metric.get(str((series.get("metric") or {}).get("type")))
        if mapper is not None and matches(series):
            out.append(_map_points(series, mapper))
            projected += 1
        else:
            out.append(series)
    return out, projected


def _labels(series: Resource) -> tuple[str, dict[str, Any]]:
    resource = series.get("resource") or {}
    return str(resource.get("type")), dict(resource.get("labels") or {})


def _connector(timeseries: list[Resource], before: Resource, after: Resource) -> Projection:
    fields = ("machineType", "minInstances", "maxInstances")
    if all(before.get(f) == after.get(f) for f in fields):
        return timeseries, []
    old_type = str(before.get("machineType") or DEFAULT_CONNECTOR_MACHINE)
    new_type = str(after.get("machineType") or DEFAULT_CONNECTOR_MACHINE)
    old = connector_ceiling_mbps(old_type, before.get("maxInstances") or 0)
    new = connector_ceiling_mbps(new_type, after.get("maxInstances") or 0)
    if old <= 0 or new <= 0:
        return (
            f"the capacity model knows no throughput for {before.get('maxInstances')} x {old_type} -> "
            f"{after.get('maxInstances')} x {new_type} (it knows {', '.join(CONNECTOR_MBPS_PER_INSTANCE)})"
        )
    *_, location, _, name = str(after["name"]).split("/")
    factor = old / new
    per_instance = CONNECTOR_MBPS_PER_INSTANCE[old_type] / CONNECTOR_MBPS_PER_INSTANCE[new_type]
    low, high = int(after.get("minInstances") or 0), int(after["maxInstances"])

    def instances(value: Resource) -> Resource:
        count = math.ceil(int(value.get("int64Value", 0)) * per_instance)
        return {"int64Value": str(min(max(count, low), high))}

    def matches(series: Resource) -> bool:
        kind, labels = _labels(series)
        return (
            kind == "vpc_access_connector"
            and labels.get("connector_name") == name
            and (labels.get("location") in (None, location))
        )

    series, count = _project(
        timeseries,
        matches,
        {CONNECTOR_CPU: lambda v: _scaled_value(v, factor, 1.0), CONNECTOR_INSTANCES: instances},
    )
    return series, [
        f"{name}: capacity {old:.0f} -> {new:.0f} Mbps at the same load; CPU utilisation x {factor:.2f}, "
        f"instances x {per_instance:.2f} within {low}-{high} ({count} series projected)"
    ]


def _sql(timeseries: list[Resource], project: str, before: Resource, after: Resource) -> Projection:
    old_settings, new_settings = before.get("settings") or {}, after.get("settings") or {}
    database_id = f"{after.get('project', project)}:{str(after.get('name', '')).rsplit('/', 1)[-1]}"

    def matches(series: Resource) -> bool:
        kind, labels = _labels(series)
        return kind == "cloudsql_database" and labels.get("database_id") == database_id

    by_metric: dict[str, Callable[[Resource], Resource]] = {}
    notes = []
    old_tier, new_tier = str(old_settings.get("tier")), str(new_settings.get("tier"))
    if old_tier != new_tier:
        old_cpus, new_cpus = tier_vcpus(old_tier), tier_vcpus(new_tier)
        if old_cpus is None or new_cpus is None:
            unknown = old_tier if old_cpus is None else new_tier
            return f"the capacity model knows no vCPU count for tier {unknown} ({old_tier} -> {new_tier})"
        factor = old_cpus / new_cpus
        if factor != 1:
            by_metric[SQL_CPU] = lambda v: _scaled_value(v, factor, 1.0)
            notes.append(f"{database_id}: {old_cpus} -> {new_cpus} vCPUs; CPU utilisation x {factor:.2f}")
    started = (
        old_settings.get("activationPolicy") == "NEVER"
        and new_settings.get("activationPolicy") == "ALWAYS"
        and after.get("state") == "RUNNABLE"
    )
    if started:
        by_metric[SQL_UP] = lambda v: {"int64Value": "1"} if "int64Value" in v else {"doubleValue": 1.0}
        notes.append(f"{database_id}: started, database/up reads 1")
    if not by_metric:
        return timeseries, []
    series, _ = _project(timeseries, matches, by_metric)
    return series, notes


def project_series(api: str, scenario: Any, before: Resource, after: Resource) -> Projection:
    """The scenario's time series once `before` became `after` (the same load on the new capacity, per the
    module's assumptions), with a note per projection; a string saying why when the capacity changed in a way
    the model cannot project. The scenario is not modified."""
    timeseries: list[Resource] = scenario.monitoring.timeSeries
    if api == "vpcaccess":
        return _connector(timeseries, before, after)
    if api == "sqladmin":
        return _sql(timeseries, scenario.project, before, after)
    return timeseries, []


# Cloud Run's own answer when no instance can take a request (https://cloud.google.com/run/docs/troubleshooting#429).
_NO_INSTANCE_STATUS, _NO_INSTANCE_BODY = 429, "Rate exceeded."
# An endpoint's answer per service short name, then per path (the scenario's twin-only `endpoints`).
Endpoints = dict[str, dict[str, EndpointBehaviour]]


def _max_instances(service: Resource) -> int | None:
    counts = [
        int(value)
        for value in (
            ((service.get("template") or {}).get("scaling") or {}).get("maxInstanceCount"),
            (service.get("scaling") or {}).get("maxInstanceCount"),
        )
        if value is not None
    ]
    return min(counts) if counts else None


def _peak_active_instances(timeseries: list[Resource], service_name: str, location: str) -> int | None:
    """The most active instances the service ran at one instant, summed over its revisions; None unseen."""
    totals: dict[str, int] = {}
    for series in timeseries:
        kind, labels = _labels(series)
        metric = series.get("metric") or {}
        if (
            metric.get("type") != RUN_INSTANCE_COUNT
            or kind != "cloud_run_revision"
            or labels.get("service_name") != service_name
            or labels.get("location") not in (None, location)
            or (metric.get("labels") or {}).get("state", "active") != "active"
        ):
            continue
        for point in series.get("points", []):
            end = str(point["interval"]["endTime"])
            totals[end] = totals.get(end, 0) + int(point["value"].get("int64Value", 0))
    return max(totals.values()) if totals else None


def project_serving(
    scenario: Any, api: str, before: Resource, after: Resource
) -> tuple[Endpoints, list[str]] | str:
    """The scenario's endpoints once `before` became `after`: a Cloud Run service whose max instances rise
    above its observed peak stops answering Cloud Run's 429 `Rate exceeded.` (see the module's assumptions);
    a string saying why when the model cannot tell. The scenario is not modified."""
    endpoints: Endpoints = scenario.endpoints
    if api != "run" or "/services/" not in str(after.get("name", "")):
        return endpoints, []
    old, new = _max_instances(before), _max_instances(after)
    if new is None or old == new:
        return endpoints, []
    *_, location, _, name = str(after["name"]).split("/")
    peak = _peak_active_instances(scenario.monitoring.timeSeries, name, location)
    if peak is None:
        return (
            f"no active instance count of {name} was observed ({RUN_INSTANCE_COUNT}): the capacity model "
            f"cannot tell whether {new} instances carry its load"
        )
    if new <= peak:
        return endpoints, [f"{name}: max instances {old} -> {new}, at or under its observed peak of {peak}"]
    paths = endpoints.get(name, {})
    rejected = [
        path
        for path, answer in paths.items()
        if answer.status == _NO_INSTANCE_STATUS and (answer.body or "").strip() == _NO_INSTANCE_BODY
    ]
    if not rejected:
        return endpoints, []
    served = {
        **paths,
        **{path: EndpointBehaviour(status=200, delayMs=paths[path].delayMs) for path in rejected},
    }
    return {**endpoints, name: served}, [
        f"{name}: max instances {old} -> {new}, above its observed peak of {peak} active: Cloud Run's 429 "
        f"Rate exceeded stops on {', '.join(rejected)} (the app's answer there taken as 200)"
    ]
