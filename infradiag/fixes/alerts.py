"""The alert policy that would have paged for a finding: per signal, the monitored resource type, the filter
pinned to the finding's resource, the aligner, comparator, threshold and duration that fit that signal.

The policy is the body of Cloud Monitoring's projects.alertPolicies.create, in Google's REST names
(https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#AlertPolicy). Resource types
and labels: https://cloud.google.com/monitoring/api/resources; metric kinds and value types:
https://cloud.google.com/monitoring/api/metrics_gcp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from infradiag.evidence.metrics import (
    CONNECTOR_CPU,
    NAT_DROPPED_SENT_PACKETS,
    RUN_INSTANCE_COUNT,
    RUN_MEMORY,
    RUN_REQUEST_COUNT,
    SQL_CONNECTIONS,
    SQL_CPU,
    SQL_POSTGRES_BACKENDS,
    SQL_UP,
    alert_metrics,
)

# Cloud Run's default maxInstanceCount when a service sets none
# (https://cloud.google.com/run/docs/configuring/max-instances).
RUN_DEFAULT_MAX_INSTANCES = 100


@dataclass(frozen=True)
class Signal:
    """How one metric is alerted on. `threshold` names a key of the environment's thresholds, or "limit" (a
    share of the resource's own limit, `thresholds[limit_share]` times it), or is a number."""

    resource_type: str  # the monitored resource type the metric is written against
    aligner: str  # per-series aligner that fits the metric's kind and value type
    comparison: str
    threshold: str | float
    duration: str  # how long the condition must hold before it opens an incident
    what: str  # the figure the condition watches, for the why
    metric_filter: str = ""  # extra metric label filter (e.g. only 5xx responses)
    reducer: str = ""  # cross-series reducer, for a metric split by labels the alert does not care about
    limit_share: str = ""  # with threshold "limit": the thresholds key of the share of it (none: all of it)


# An instance's connections against its max_connections, whichever metric counts them.
_SQL_CONNECTIONS_NEAR_LIMIT = Signal(
    "cloudsql_database",
    "ALIGN_MAX",
    "COMPARISON_GT",
    "limit",
    "300s",
    "connections",
    limit_share="sql_connections_warning",
)

SIGNALS: dict[str, Signal] = {
    # GAUGE DISTRIBUTION: its 95th percentile, as the saturation finding reads it.
    CONNECTOR_CPU: Signal(
        "vpc_access_connector",
        "ALIGN_PERCENTILE_95",
        "COMPARISON_GT",
        "connector_cpu_warning",
        "300s",
        "CPU p95",
    ),
    # GAUGE INT64 per database: the instance's backends are their sum.
    SQL_POSTGRES_BACKENDS: replace(_SQL_CONNECTIONS_NEAR_LIMIT, reducer="REDUCE_SUM"),
    SQL_CONNECTIONS: _SQL_CONNECTIONS_NEAR_LIMIT,
    SQL_CPU: Signal(
        "cloudsql_database", "ALIGN_MEAN", "COMPARISON_GT", "sql_cpu_saturated", "300s", "CPU utilization"
    ),
    # GAUGE INT64, 1 while up: any minute at 0 is down.
    SQL_UP: Signal("cloudsql_database", "ALIGN_MIN", "COMPARISON_LT", 1.0, "60s", "database/up"),
    # GAUGE INT64 per revision and state: active instances of every revision of the service.
    RUN_INSTANCE_COUNT: Signal(
        "cloud_run_revision",
        "ALIGN_MAX",
        "COMPARISON_GE",
        "limit",
        "60s",
        "active instances",
        metric_filter='metric.labels.state="active"',
        reducer="REDUCE_SUM",
    ),
    # DELTA DISTRIBUTION: its 99th percentile, as the memory finding reads it.
    RUN_MEMORY: Signal(
        "cloud_run_revision",
        "ALIGN_PERCENTILE_99",
        "COMPARISON_GT",
        "run_memory_exhausted",
        "300s",
        "memory utilization p99",
    ),
    # DELTA INT64: any 5xx answer is one too many.
    RUN_REQUEST_COUNT: Signal(
        "cloud_run_revision",
        "ALIGN_DELTA",
        "COMPARISON_GT",
        0.0,
        "60s",
        "5xx responses per minute",
        metric_filter='metric.labels.response_code_class="5xx"',
        reducer="REDUCE_SUM",
    ),
    # DELTA INT64: any packet NAT drops is a connection that failed.
    NAT_DROPPED_SENT_PACKETS: Signal(
        "nat_gateway",
        "ALIGN_DELTA",
        "COMPARISON_GT",
        0.0,
        "60s",
        "dropped packets per minute",
        reducer="REDUCE_SUM",
    ),
}

# The finding's resource name -> the monitored resource's labels that pick it out (and group a sum by).
_PINS: tuple[tuple[re.Pattern[str], str, Any], ...] = (
    (
        re.compile(r"projects/(?P<p>[^/]+)/instances/(?P<n>[^/]+)"),
        "cloudsql_database",
        lambda m: {"database_id": f"{m['p']}:{m['n']}"},
    ),
    (
        re.compile(r"projects/[^/]+/locations/(?P<r>[^/]+)/connectors/(?P<n>[^/]+)"),
        "vpc_access_connector",
        lambda m: {"location": m["r"], "connector_name": m["n"]},
    ),
    (
        re.compile(r"projects/[^/]+/locations/(?P<r>[^/]+)/services/(?P<n>[^/]+)"),
        "cloud_run_revision",
        lambda m: {"location": m["r"], "service_name": m["n"]},
    ),
    (
        re.compile(r"projects/[^/]+/regions/(?P<r>[^/]+)/routers/[^/]+/nats/(?P<n>[^/]+)"),
        "nat_gateway",
        lambda m: {"region": m["r"], "gateway_name": m["n"]},
    ),
)

_SYMBOL = {"COMPARISON_GT": ">", "COMPARISON_GE": ">=", "COMPARISON_LT": "<", "COMPARISON_LE": "<="}


def _labels(resource_type: str, resource: str) -> dict[str, str] | None:
    for pattern, kind, labels in _PINS:
        match = pattern.fullmatch(resource)
        if match is not None and kind == resource_type:
            found: dict[str, str] = labels(match)
            return found
    return None


def _limit(metric: str, subject: dict[str, Any]) -> tuple[float, str] | None:
    """The resource's own limit the metric runs into, and where it comes from."""
    if metric in (SQL_POSTGRES_BACKENDS, SQL_CONNECTIONS) and subject.get("max_connections") is not None:
        return float(subject["max_connections"]), f"max_connections {subject['max_connections']}"
    if metric == RUN_INSTANCE_COUNT:
        if subject.get("max_instances") is not None:
            return float(subject["max_instances"]), f"maxInstanceCount {subject['max_instances']}"
        return float(
            RUN_DEFAULT_MAX_INSTANCES
        ), f"Cloud Run's default maxInstanceCount {RUN_DEFAULT_MAX_INSTANCES}"
    return None


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 4)


def _subject(resource: str, *pools: Any) -> dict[str, Any]:
    for pool in pools:
        for item in pool or []:
            if item.get("resource") == resource:
                found: dict[str, Any] = dict(item)
                return found
    return {}


def alert_policy(
    finding: Any, thresholds: Any, channels: Any, sql_instances: Any, services: Any
) -> dict[str, Any]:
    """The alert policy on the signal that shows `finding` (the first of alert_metrics(cause) that fits its
    resource; for a MySQL instance's connections, network/connections): `metric`, `display_name`,
    `combiner`, `conditions` (the REST conditionThreshold, filter with metric.type, resource.type and the
    resource's labels), `channels` (the configured notification channels, or None), `why`, `why_channels`
    and `note` (what to look up when no signal fits: then every field of the policy is None)."""
    cause, resource = str(finding["cause"]), str(finding["resource"])
    name = resource.rsplit("/", 1)[-1]
    subject = _subject(resource, sql_instances, services)
    metrics = alert_metrics(cause)
    if SQL_POSTGRES_BACKENDS in metrics and subject.get("engine") not in (None, "POSTGRES"):
        metrics = [m for m in metrics if m != SQL_POSTGRES_BACKENDS]
    policy: dict[str, Any] = {
        "metric": metrics[0] if metrics else "",
        "display_name": f"{cause} {name}",
        "combiner": "OR",
        "conditions": None,
        "channels": list(channels) if channels else None,
        "why": "unchanged",
        "note": (
            f"no signal infradiag knows fits {resource} for {cause} "
            f"(metrics: {', '.join(metrics) or 'none'}): "
            "write the condition by hand (https://cloud.google.com/monitoring/alerts/using-alerting-api)"
        ),
    }
    policy["why_channels"] = (
        f"the notification channels the environment's config names ({len(channels)})"
        if channels
        else "unchanged"
    )
    for metric in metrics:
        signal = SIGNALS.get(metric)
        labels = _labels(signal.resource_type, resource) if signal else None
        if signal is None or labels is None:
            continue
        if signal.threshold == "limit":
            limit = _limit(metric, subject)
            if limit is None:
                continue
            value, source = limit
            if signal.limit_share:
                share = float(thresholds[signal.limit_share])
                value *= share
                source = f"{share * 100:.0f} % of {source} (thresholds.{signal.limit_share})"
        elif isinstance(signal.threshold, str):
            value, source = float(thresholds[signal.threshold]), f"thresholds.{signal.threshold}"
        else:
            value, source = float(signal.threshold), "any"
        pins = [f'resource.labels.{k}="{v}"' for k, v in sorted(labels.items())]
        parts = [f'metric.type="{metric}"', f'resource.type="{signal.resource_type}"', *pins]
        if signal.metric_filter:
            parts.append(signal.metric_filter)
        aggregation: dict[str, Any] = {"alignmentPeriod": "60s", "perSeriesAligner": signal.aligner}
        if signal.reducer:
            aggregation["crossSeriesReducer"] = signal.reducer
            aggregation["groupByFields"] = [f"resource.label.{k}" for k in sorted(labels)]
        policy["conditions"] = [
            {
                "displayName": f"{signal.what} of {name} {_SYMBOL[signal.comparison]} {_number(value):g}",
                "conditionThreshold": {
                    "filter": " AND ".join(parts),
                    "comparison": signal.comparison,
                    "thresholdValue": _number(value),
                    "duration": signal.duration,
                    "aggregations": [aggregation],
                    "trigger": {"count": 1},
                },
            }
        ]
        policy["why"] = (
            f"{metric} on {signal.resource_type} {name}: {signal.what} ({signal.aligner} per minute) "
            f"{_SYMBOL[signal.comparison]} {_number(value):g} ({source}) for {signal.duration}"
        )
        policy["note"] = ""
        policy["metric"] = metric
        return policy
    # No condition: nothing to create (every field unset, so the fix is the note, with no command).
    return {**policy, "display_name": None, "combiner": None, "channels": None}
