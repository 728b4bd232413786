"""A staging project in REST JSON form, for collector tests: every resource type infradiag reads.

`fleet(n)` has n Cloud Run services; the first, `svc-0`, is the interesting one (connector, Cloud SQL
volume, a failed newer revision); `svc-1` uses Direct VPC egress. Metrics are raw points one minute apart,
ending at NOW, as Google's timeSeries.list returns them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infradiag.twin.series import points, rfc3339

PROJECT, NUMBER, REGION = "acme-staging", "123456789012", "us-central1"
NOW = datetime(2026, 9, 15, 23, 6, 0, tzinfo=UTC)
NOW_TEXT = rfc3339(NOW)
LOC = f"projects/{PROJECT}/locations/{REGION}"
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"
CONNECTOR = f"{LOC}/connectors/staging-conn"
MINUTES = 30

Json = dict[str, Any]


def series(
    metric: str,
    resource: Json,
    kind: str,
    value_type: str,
    value: Callable[[int], Any],
    labels: Json | None = None,
) -> Json:
    """A raw time series, newest point first; `value(age_minutes)` is the point's plain value."""
    field = {"INT64": "int64Value", "DOUBLE": "doubleValue", "BOOL": "boolValue"}.get(value_type)

    def typed(age: int) -> Json:
        raw = value(age)
        if field is None:
            return {"distributionValue": raw}
        return {field: str(raw) if value_type == "INT64" else raw}

    return {
        "metric": {"type": metric, "labels": labels or {}},
        "resource": resource,
        "metricKind": kind,
        "valueType": value_type,
        "points": points(NOW, MINUTES, kind, typed),
    }


def distribution(samples: list[float], bounds: list[float]) -> Json:
    """A DISTRIBUTION with explicit bucket bounds."""
    counts = [0] * (len(bounds) + 1)
    for sample in samples:
        counts[sum(1 for b in bounds if sample >= b)] += 1
    mean = sum(samples) / len(samples)
    return {
        "count": str(len(samples)),
        "mean": mean,
        "sumOfSquaredDeviation": sum((s - mean) ** 2 for s in samples),
        "bucketOptions": {"explicitBuckets": {"bounds": bounds}},
        "bucketCounts": [str(c) for c in counts],
    }


# Two jobs, as jobs.list returns them: one routes through the connector (named by its short name, as the field
# allows) and its latest execution failed; one uses Direct VPC egress and never ran.
JOBS: list[Json] = [
    {
        "name": f"{LOC}/jobs/nightly-export",
        "template": {
            "taskCount": 1,
            "template": {
                "containers": [{"image": f"us-docker.pkg.dev/{PROJECT}/apps/export:1"}],
                "vpcAccess": {"connector": "staging-conn", "egress": "PRIVATE_RANGES_ONLY"},
                "volumes": [
                    {"name": "cloudsql", "cloudSqlInstance": {"instances": [f"{PROJECT}:{REGION}:main-db"]}}
                ],
            },
        },
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
        "executionCount": 3,
        "latestCreatedExecution": {
            "name": "nightly-export-x7k2p",
            "createTime": "2026-09-15T22:00:00Z",
            "completionTime": "2026-09-15T22:04:10Z",
            "completionStatus": "EXECUTION_FAILED",
        },
    },
    {
        "name": f"{LOC}/jobs/reindex",
        "template": {
            "template": {
                "containers": [{"image": f"us-docker.pkg.dev/{PROJECT}/apps/reindex:1"}],
                "vpcAccess": {
                    "networkInterfaces": [{"network": "staging-vpc", "subnetwork": "run-direct"}],
                    "egress": "ALL_TRAFFIC",
                },
            },
        },
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
    },
]


def service(index: int) -> Json:
    name = f"svc-{index}"
    full = f"{LOC}/services/{name}"
    template: Json = {
        "scaling": {"maxInstanceCount": 10},
        "containers": [{"image": f"us-docker.pkg.dev/{PROJECT}/apps/{name}:1"}],
    }
    if index == 0:
        template["vpcAccess"] = {"connector": CONNECTOR, "egress": "ALL_TRAFFIC"}
        template["volumes"] = [
            {"name": "cloudsql", "cloudSqlInstance": {"instances": [f"{PROJECT}:{REGION}:main-db"]}}
        ]
    elif index == 1:
        template["vpcAccess"] = {
            "networkInterfaces": [{"network": "staging-vpc", "subnetwork": "run-direct"}],
            "egress": "PRIVATE_RANGES_ONLY",
        }
    resource: Json = {
        "name": full,
        "ingress": "INGRESS_TRAFFIC_ALL",
        "template": template,
        "traffic": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
        "conditions": [{"type": "RoutesReady", "state": "CONDITION_SUCCEEDED"}],
        "latestReadyRevision": f"{full}/revisions/{name}-00001-abc",
        "latestCreatedRevision": f"{full}/revisions/{name}-00001-abc",
        "uri": f"https://{name}.a.run.app",
    }
    if index == 0:
        resource["terminalCondition"] = {
            "type": "Ready",
            "state": "CONDITION_FAILED",
            "message": "Revision 'svc-0-00002-new' is not ready and cannot serve traffic.",
            "revisionReason": "HEALTH_CHECK_CONTAINER_ERROR",
        }
        resource["traffic"] = [
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "svc-0-00001-abc", "percent": 100}
        ]
        resource["latestCreatedRevision"] = f"{full}/revisions/svc-0-00002-new"
    return resource


def revisions(count: int) -> list[Json]:
    found = [
        {
            "name": f"{LOC}/services/svc-{i}/revisions/svc-{i}-00001-abc",
            "conditions": [{"type": "Ready", "state": "CONDITION_SUCCEEDED"}],
        }
        for i in range(count)
    ]
    found.append(
        {
            "name": f"{LOC}/services/svc-0/revisions/svc-0-00002-new",
            "conditions": [
                {
                    "type": "Ready",
                    "state": "CONDITION_FAILED",
                    "message": "The user-provided container failed to start and listen on PORT=8080.",
                    "reason": "CONTAINER_MISSING",
                }
            ],
        }
    )
    return found


def compute() -> Json:
    network = f"{COMPUTE}/global/networks/staging-vpc"
    region = f"{COMPUTE}/regions/{REGION}"
    neg = f"{COMPUTE}/regions/{REGION}/networkEndpointGroups/svc-0-neg"
    group = f"{COMPUTE}/zones/{REGION}-a/instanceGroups/legacy-ig"
    return {
        "networks": [{"name": "staging-vpc", "selfLink": network}],
        "subnetworks": [
            {
                "name": "run-direct",
                "selfLink": f"{region}/subnetworks/run-direct",
                "network": network,
                "region": region,
                "ipCidrRange": "10.20.0.0/28",
            }
        ],
        "firewalls": [
            {
                "name": "allow-connector-sql",
                "network": network,
                "direction": "EGRESS",
                "allowed": [{"IPProtocol": "tcp", "ports": ["5432"]}],
                "destinationRanges": ["10.30.0.0/24"],
            },
            {
                "name": "deny-all-egress",
                "network": network,
                "direction": "EGRESS",
                "priority": 65000,
                "denied": [{"IPProtocol": "all"}],
                "destinationRanges": ["0.0.0.0/0"],
                "disabled": True,
            },
        ],
        "routers": [
            {
                "name": "staging-router",
                "network": network,
                "region": region,
                "nats": [
                    {
                        "name": "staging-nat",
                        "sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
                        "subnetworks": [{"name": f"{region}/subnetworks/run-direct"}],
                    }
                ],
            }
        ],
        "networkEndpointGroups": [
            {
                "name": "svc-0-neg",
                "selfLink": neg,
                "region": region,
                "networkEndpointType": "SERVERLESS",
                "cloudRun": {"service": "svc-0"},
            }
        ],
        "backendServices": [
            {
                "name": "web-backend",
                "selfLink": f"{COMPUTE}/global/backendServices/web-backend",
                "protocol": "HTTPS",
                "healthChecks": [f"{COMPUTE}/global/healthChecks/web-hc"],
                "backends": [{"group": neg}],
            },
            {
                "name": "legacy-backend",
                "selfLink": f"{region}/backendServices/legacy-backend",
                "region": region,
                "protocol": "HTTP",
                "timeoutSec": 10,
                "outlierDetection": {"consecutiveErrors": 5},
                "backends": [{"group": group}],
            },
        ],
        "healthChecks": [
            {
                "name": "web-hc",
                "selfLink": f"{COMPUTE}/global/healthChecks/web-hc",
                "type": "HTTP",
                "httpHealthCheck": {"port": 8080, "requestPath": "/healthz"},
            }
        ],
        "backendServiceHealth": {
            "legacy-backend": {
                "healthStatus": [
                    {"instance": f"{COMPUTE}/zones/{REGION}-a/instances/a", "healthState": "HEALTHY"},
                    {"instance": f"{COMPUTE}/zones/{REGION}-a/instances/b", "healthState": "UNHEALTHY"},
                ]
            }
        },
    }


def sql() -> Json:
    network = f"projects/{PROJECT}/global/networks/staging-vpc"
    return {
        "instances": [
            {
                "name": "main-db",
                "project": PROJECT,
                "region": REGION,
                "connectionName": f"{PROJECT}:{REGION}:main-db",
                "state": "RUNNABLE",
                "databaseVersion": "POSTGRES_15",
                "settings": {"tier": "db-custom-2-7680", "ipConfiguration": {"privateNetwork": network}},
                "ipAddresses": [{"type": "PRIVATE", "ipAddress": "10.30.0.3"}],
            },
            {
                "name": "legacy-mysql",
                "project": PROJECT,
                "region": REGION,
                "state": "MAINTENANCE",
                "databaseVersion": "MYSQL_8_0",
                "settings": {
                    "tier": "db-n1-standard-2",
                    "databaseFlags": [{"name": "max_connections", "value": "150"}],
                },
            },
        ]
    }


def time_series(count: int) -> list[Json]:
    connector = {
        "type": "vpc_access_connector",
        "labels": {"project_id": PROJECT, "location": REGION, "connector_name": "staging-conn"},
    }
    fractions = [0.1 * i for i in range(1, 10)]
    out = [
        series(
            "vpcaccess.googleapis.com/connector/cpu/utilizations",
            connector,
            "GAUGE",
            "DISTRIBUTION",
            lambda age: distribution([0.95, 0.97, 0.99] if age < 10 else [0.4], fractions),
        ),
        series("vpcaccess.googleapis.com/connector/instances", connector, "GAUGE", "INT64", lambda age: 3),
        # 60 s DELTA points: the peak minute (age 3) sends 6e6 and receives 1.5e6 bytes: 125,000 B/s = 1 Mbps.
        series(
            "vpcaccess.googleapis.com/connector/sent_bytes_count",
            connector,
            "DELTA",
            "INT64",
            lambda age: 6_000_000 if age == 3 else 600_000,
        ),
        series(
            "vpcaccess.googleapis.com/connector/received_bytes_count",
            connector,
            "DELTA",
            "INT64",
            lambda age: 1_500_000 if age == 3 else 60_000,
        ),
    ]
    for i in range(count):
        for revision in (f"svc-{i}-00001-abc", f"svc-{i}-00000-old"):
            rev = {
                "type": "cloud_run_revision",
                "labels": {
                    "project_id": PROJECT,
                    "location": REGION,
                    "service_name": f"svc-{i}",
                    "revision_name": revision,
                },
            }
            out += [
                series(
                    "run.googleapis.com/container/instance_count",
                    rev,
                    "GAUGE",
                    "INT64",
                    lambda age: 4,
                    {"state": "active"},
                ),
                series(
                    "run.googleapis.com/container/instance_count",
                    rev,
                    "GAUGE",
                    "INT64",
                    lambda age: 7,
                    {"state": "idle"},
                ),
                series(
                    "run.googleapis.com/request_count",
                    rev,
                    "DELTA",
                    "INT64",
                    lambda age: 10,
                    {"response_code_class": "2xx"},
                ),
            ]
            if i == 0:
                out.append(
                    series(
                        "run.googleapis.com/request_count",
                        rev,
                        "DELTA",
                        "INT64",
                        lambda age: 2,
                        {"response_code_class": "5xx"},
                    )
                )
    database = {
        "type": "cloudsql_database",
        "labels": {"project_id": PROJECT, "database_id": f"{PROJECT}:main-db", "region": REGION},
    }
    mysql = {
        "type": "cloudsql_database",
        "labels": {"project_id": PROJECT, "database_id": f"{PROJECT}:legacy-mysql", "region": REGION},
    }
    nat = {
        "type": "nat_gateway",
        "labels": {"project_id": PROJECT, "region": REGION, "router_id": "42", "gateway_name": "staging-nat"},
    }
    backends = "cloudsql.googleapis.com/database/postgresql/num_backends"
    out += [
        series(
            backends, database, "GAUGE", "INT64", lambda age: 300 if age == 5 else 100, {"database": "app"}
        ),
        series(backends, database, "GAUGE", "INT64", lambda age: 90, {"database": "postgres"}),
        series(
            "cloudsql.googleapis.com/database/network/connections", mysql, "GAUGE", "INT64", lambda age: 120
        ),
        series(
            "cloudsql.googleapis.com/database/cpu/utilization",
            database,
            "GAUGE",
            "DOUBLE",
            lambda age: 0.5 + age / 100,
        ),
        series(
            "cloudsql.googleapis.com/database/up",
            database,
            "GAUGE",
            "INT64",
            lambda age: 0 if age == 2 else 1,
        ),
        series(
            "router.googleapis.com/nat/dropped_sent_packets_count",
            nat,
            "DELTA",
            "INT64",
            lambda age: 5,
            {"reason": "OUT_OF_RESOURCES", "ip_protocol": "TCP"},
        ),
        series(
            "router.googleapis.com/nat/dropped_sent_packets_count",
            nat,
            "DELTA",
            "INT64",
            lambda age: 1000,
            {"reason": "ENDPOINT_INDEPENDENCE_CONFLICT", "ip_protocol": "TCP"},
        ),
        series("router.googleapis.com/nat/nat_allocation_failed", nat, "GAUGE", "BOOL", lambda age: age == 4),
    ]
    return out


def alert_policies() -> list[Json]:
    return [
        {
            "name": f"projects/{PROJECT}/alertPolicies/1",
            "displayName": "Connector CPU",
            "enabled": True,
            "conditions": [
                {
                    "displayName": "cpu",
                    "conditionThreshold": {
                        "filter": 'resource.type = "vpc_access_connector" AND '
                        'metric.type = "vpcaccess.googleapis.com/connector/cpu/utilizations"',
                        "comparison": "COMPARISON_GT",
                        "duration": "60s",
                    },
                }
            ],
        },
        {
            "name": f"projects/{PROJECT}/alertPolicies/2",
            "displayName": "5xx (disabled)",
            "enabled": False,
            "conditions": [
                {
                    "displayName": "5xx",
                    "conditionPrometheusQueryLanguage": {
                        "query": 'sum(rate(run_googleapis_com:request_count{response_code_class="5xx"}[5m]))'
                        " > 1"
                    },
                }
            ],
        },
    ]


def fleet(count: int, **overrides: Any) -> Json:
    """The scenario as a dict (validate it with Scenario.model_validate)."""
    scenario: Json = {
        "apiVersion": "infradiag/twin-v1",
        "name": f"collect-fleet-{count}",
        "project": PROJECT,
        "projectNumber": NUMBER,
        "region": REGION,
        "now": NOW_TEXT,
        "run": {"services": [service(i) for i in range(count)], "revisions": revisions(count), "jobs": JOBS},
        "vpcaccess": {
            "connectors": [
                {
                    "name": CONNECTOR,
                    "network": "staging-vpc",
                    "ipCidrRange": "10.8.0.0/28",
                    "state": "READY",
                    "minInstances": 2,
                    "maxInstances": 3,
                }
            ]
        },
        "compute": compute(),
        "sql": sql(),
        "monitoring": {"timeSeries": time_series(count), "alertPolicies": alert_policies()},
    }
    scenario.update(overrides)
    return scenario
