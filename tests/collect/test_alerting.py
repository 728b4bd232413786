"""Alert policies (monitoring_v3, parsed from REST JSON): enabled, and the metric types they watch."""

from __future__ import annotations

import json
from typing import Any

from google.cloud import monitoring_v3

from infradiag.collect.alerting import alert_policy_evidence, promql_name

KNOWN = ("run.googleapis.com/request_count", "vpcaccess.googleapis.com/connector/cpu/utilizations")


def _policy(data: dict[str, Any]) -> Any:
    return monitoring_v3.AlertPolicy.from_json(json.dumps(data), ignore_unknown_fields=True)


def test_promql_names_follow_googles_mapping() -> None:
    assert promql_name("run.googleapis.com/request_count") == "run_googleapis_com:request_count"
    assert (
        promql_name("vpcaccess.googleapis.com/connector/cpu/utilizations")
        == "vpcaccess_googleapis_com:connector_cpu_utilizations"
    )


def test_metric_types_from_filters_mql_and_promql() -> None:
    policy = alert_policy_evidence(
        _policy(
            {
                "name": "projects/p/alertPolicies/9",
                "displayName": "mixed",
                "conditions": [
                    {
                        "conditionThreshold": {
                            "filter": 'metric.type="cloudsql.googleapis.com/database/up" AND '
                            'resource.type="cloudsql_database"'
                        }
                    },
                    {"conditionAbsent": {"filter": 'metric.type = "run.googleapis.com/request_count"'}},
                    {
                        "conditionMonitoringQueryLanguage": {
                            "query": "fetch nat_gateway :: router.googleapis.com/nat/nat_allocation_failed"
                            " | every 1m"
                        }
                    },
                    {
                        "conditionPrometheusQueryLanguage": {
                            "query": "max(vpcaccess_googleapis_com:connector_cpu_utilizations) > 0.8"
                        }
                    },
                ],
            }
        ),
        KNOWN,
    )
    assert policy.enabled  # unset means enabled
    assert policy.metric_types == [
        "cloudsql.googleapis.com/database/up",
        "run.googleapis.com/request_count",
        "router.googleapis.com/nat/nat_allocation_failed",
        "vpcaccess.googleapis.com/connector/cpu/utilizations",
    ]


def test_disabled_policy() -> None:
    policy = alert_policy_evidence(_policy({"name": "n", "displayName": "d", "enabled": False}))
    assert not policy.enabled and policy.metric_types == []
