"""Cloud Monitoring alert policies: which metrics the project's policies watch (one list call)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from infradiag.collect.api import MONITORING, Read, Route
from infradiag.collect.calls import Timeout
from infradiag.collect.signals import SIGNALS
from infradiag.evidence import AlertPolicyEvidence

# Filters: https://cloud.google.com/monitoring/api/v3/filters (metric.type = "TYPE").
_FILTER_METRIC = re.compile(r'metric\.type\s*=\s*"([^"]+)"')
# MQL: `fetch RESOURCE :: METRIC` or `metric 'METRIC'` (https://cloud.google.com/monitoring/mql/reference).
_MQL_METRIC = re.compile(r"""(?:::\s*|\bmetric\s+)['"]?([a-z0-9_.-]+\.[a-z]+/[A-Za-z0-9_./-]+)""")

ALERTING = Read(
    "alerting",
    MONITORING,
    "monitoring.projects.alertPolicies.list",
    paginated=True,
    consequence="alert policies could not be read (monitoring.alert_gap)",
    field="alert_policies",
    route=Route("gRPC", "/google.monitoring.v3.AlertPolicyService/ListAlertPolicies"),
    fetch=lambda s, d: list_alert_policies(
        s.clients.alert_policies, s.project, sorted({signal.metric_type for signal in SIGNALS}), d
    ),
)
READS = (ALERTING,)


def promql_name(metric_type: str) -> str:
    """A Cloud Monitoring metric type as PromQL names it: the first "/" becomes ":", every other "." or
    "/" becomes "_" (https://cloud.google.com/monitoring/promql#metric-names)."""
    domain, _, path = metric_type.partition("/")
    return re.sub(r"[./]", "_", domain) + ":" + re.sub(r"[./]", "_", path)


def list_alert_policies(
    client: Any, project: str, known_metrics: Iterable[str], timeout: Timeout
) -> list[AlertPolicyEvidence]:
    """Every alert policy of the project (one paginated list call). PromQL conditions are matched against
    `known_metrics`, since a PromQL name cannot be turned back into a metric type unambiguously."""
    known = tuple(known_metrics)
    pager = client.list_alert_policies(name=f"projects/{project}", timeout=timeout, retry=None)
    return [alert_policy_evidence(policy, known) for policy in pager]


def condition_metric_types(condition: Any, known_metrics: Iterable[str]) -> list[str]:
    """The metric types one AlertPolicy.Condition watches, as far as its filter or query says."""
    found: list[str] = []
    for field in ("condition_threshold", "condition_absent"):
        if field in condition:
            found.extend(_FILTER_METRIC.findall(getattr(condition, field).filter))
    if "condition_monitoring_query_language" in condition:
        found.extend(_MQL_METRIC.findall(condition.condition_monitoring_query_language.query))
    if "condition_prometheus_query_language" in condition:
        query = condition.condition_prometheus_query_language.query
        found.extend(m for m in known_metrics if re.search(rf"\b{re.escape(promql_name(m))}\b", query))
    return found


def alert_policy_evidence(policy: Any, known_metrics: Iterable[str] = ()) -> AlertPolicyEvidence:
    """One monitoring_v3.AlertPolicy; `enabled` (a BoolValue: a bool in proto-plus) is true when unset."""
    known = tuple(known_metrics)
    metric_types: list[str] = []
    for condition in policy.conditions:
        metric_types.extend(m for m in condition_metric_types(condition, known) if m not in metric_types)
    return AlertPolicyEvidence(
        name=policy.name,
        display_name=policy.display_name,
        enabled=bool(policy.enabled) if "enabled" in policy else True,
        metric_types=metric_types,
    )
