"""Writes the staging scenarios: the VPC-connector incident and its healthy twin.

Run from the repository root: `python scenarios/build/staging.py` (rewrites scenarios/staging-*.yaml).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from infradiag.twin.series import delta_int, gauge_distribution, gauge_int

PROJECT, NUMBER, REGION = "acme-staging", "123456789012", "us-central1"
NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=timezone.utc)
CONNECTOR = f"projects/{PROJECT}/locations/{REGION}/connectors/staging-conn"
SERVICES = ["backend", "auth", "websocket", "frontend", "api-gateway", "notifications", "billing", "search", "admin"]
MINUTES = 60


def service(name: str) -> dict[str, Any]:
    full = f"projects/{PROJECT}/locations/{REGION}/services/{name}"
    revision = f"{name}-00042-abc"
    container: dict[str, Any] = {
        "image": f"us-docker.pkg.dev/{PROJECT}/apps/{name}:2026-09-15",
        "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
        "ports": [{"name": "http1", "containerPort": 8080}],
        "startupProbe": {"tcpSocket": {"port": 8080}, "timeoutSeconds": 240, "periodSeconds": 240, "failureThreshold": 1},
    }
    if name in ("backend", "auth"):
        container["livenessProbe"] = {"httpGet": {"path": "/health"}, "periodSeconds": 10, "failureThreshold": 3}
    return {
        "name": full,
        "uid": f"00000000-0000-4000-8000-{SERVICES.index(name):012d}",
        "generation": "42",
        "createTime": "2026-03-02T10:00:00Z",
        "updateTime": "2026-09-15T09:12:00Z",
        "creator": "deployer@acme-staging.iam.gserviceaccount.com",
        "ingress": "INGRESS_TRAFFIC_ALL",
        "launchStage": "GA",
        "template": {
            "scaling": {"minInstanceCount": 1 if name in ("backend", "auth") else 0, "maxInstanceCount": 20},
            "vpcAccess": {"connector": CONNECTOR, "egress": "PRIVATE_RANGES_ONLY"},
            "timeout": "300s",
            "serviceAccount": f"{name}@{PROJECT}.iam.gserviceaccount.com",
            "containers": [container],
            "maxInstanceRequestConcurrency": 80,
        },
        "traffic": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "observedGeneration": "42",
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": "2026-09-15T09:13:10Z"},
        "conditions": [
            {"type": "RoutesReady", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": "2026-09-15T09:13:10Z"},
            {"type": "ConfigurationsReady", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": "2026-09-15T09:13:05Z"},
        ],
        "latestReadyRevision": f"{full}/revisions/{revision}",
        "latestCreatedRevision": f"{full}/revisions/{revision}",
        "trafficStatuses": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "uri": f"https://{name}-abcdefghij-uc.a.run.app",
        "urls": [f"https://{name}-{NUMBER}.{REGION}.run.app"],
        "etag": '"CNWq/7cGEJDk2cMB/cHJvamVjdHMvYWNtZS1zdGFnaW5nL2xvY2F0aW9ucy91cy1jZW50cmFsMS9zZXJ2aWNlcy9iYWNrZW5k"',
    }


def job(saturated: bool) -> dict[str, Any]:
    """The nightly export: a Cloud Run job whose tasks reach Cloud SQL through the connector too; during the
    incident its latest execution failed."""
    full = f"projects/{PROJECT}/locations/{REGION}/jobs/nightly-export"
    return {
        "name": full,
        "uid": "00000000-0000-4000-8000-00000000a001",
        "generation": "7",
        "createTime": "2026-03-02T10:00:00Z",
        "updateTime": "2026-09-01T08:00:00Z",
        "creator": "deployer@acme-staging.iam.gserviceaccount.com",
        "launchStage": "GA",
        "template": {
            "taskCount": 1,
            "template": {
                "containers": [{"image": f"us-docker.pkg.dev/{PROJECT}/apps/nightly-export:2026-09-01",
                                "resources": {"limits": {"cpu": "1", "memory": "512Mi"}}}],
                "maxRetries": 3,
                "timeout": "3600s",
                "serviceAccount": f"nightly-export@{PROJECT}.iam.gserviceaccount.com",
                "vpcAccess": {"connector": CONNECTOR, "egress": "PRIVATE_RANGES_ONLY"},
            },
        },
        "observedGeneration": "7",
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": "2026-09-01T08:00:20Z"},
        "executionCount": 15,
        "latestCreatedExecution": {
            "name": "nightly-export-x7k2p",
            "createTime": "2026-09-15T22:00:00Z",
            "completionTime": "2026-09-15T22:41:13Z" if saturated else "2026-09-15T22:04:10Z",
            "completionStatus": "EXECUTION_FAILED" if saturated else "EXECUTION_SUCCEEDED",
        },
        "etag": '"CLaq/7cGEJDk2cMB"',
    }


def connector(name: str, max_instances: int) -> dict[str, Any]:
    return {
        "name": f"projects/{PROJECT}/locations/{REGION}/connectors/{name}",
        "network": "staging-vpc",
        "ipCidrRange": "10.8.0.0/28",
        "state": "READY",
        "minThroughput": 200,
        "maxThroughput": 300,
        "minInstances": 2,
        "maxInstances": max_instances,
        "machineType": "e2-micro",
    }


def connector_series(saturated: bool) -> list[dict[str, Any]]:
    metric_cpu = {"type": "vpcaccess.googleapis.com/connector/cpu/utilizations", "labels": {}}
    metric_instances = {"type": "vpcaccess.googleapis.com/connector/instances", "labels": {}}
    resource = {
        "type": "vpc_access_connector",
        "labels": {"project_id": PROJECT, "location": REGION, "connector_name": "staging-conn"},
    }

    def cpu(age: int) -> list[float]:
        # Saturated: climbing from ~55 % an hour ago to pinned near 97 % for the last 25 minutes.
        if not saturated:
            return [0.31 + 0.02 * (age % 3), 0.35, 0.28]
        level = 0.97 if age < 25 else 0.55 + 0.42 * (MINUTES - age) / (MINUTES - 25)
        return [min(0.995, level + d) for d in (-0.01, 0.0, 0.015)]

    def instances(age: int) -> int:
        return 3 if saturated and age < 40 else 2

    return [
        gauge_distribution(metric_cpu, resource, NOW, MINUTES, cpu),
        gauge_int(metric_instances, resource, NOW, MINUTES, instances),
    ]


def request_series(saturated: bool) -> list[dict[str, Any]]:
    series = []
    for name in SERVICES:
        resource = {
            "type": "cloud_run_revision",
            "labels": {"project_id": PROJECT, "location": REGION, "service_name": name,
                       "revision_name": f"{name}-00042-abc", "configuration_name": name},
        }
        for code_class in ("2xx", "5xx"):
            def count(age: int, code_class: str = code_class) -> int:
                failing = saturated and age < 25
                if code_class == "5xx":
                    return 40 + age % 7 if failing else 0
                return 2 + age % 3 if failing else 120 + age % 11
            metric = {"type": "run.googleapis.com/request_count", "labels": {"response_code_class": code_class}}
            series.append(delta_int(metric, resource, NOW, MINUTES, count))
    return series


GFE_503 = (
    "<!DOCTYPE html>\n<html lang=en>\n<title>503 Server Error</title>\n<h1>Error: Server Error</h1>\n"
    "<h2>The service you requested is not available yet. Please try again in 30 seconds.</h2>\n"
)


def endpoints(saturated: bool) -> dict[str, Any]:
    if not saturated:
        return {name: {"*": {"status": 200, "json": {"status": "ok", "database": "ok"}, "delayMs": 20}} for name in SERVICES}
    behaviours: dict[str, Any] = {}
    for index, name in enumerate(SERVICES):
        if index % 2 == 0:
            # The app's own health check gives up on its database connection.
            behaviours[name] = {"*": {"status": 503, "delayMs": 900 + 50 * index,
                                      "json": {"status": "unhealthy", "database": "timeout after 0.9s"}}}
        else:
            behaviours[name] = {"*": {"status": 503, "delayMs": 120, "body": GFE_503,
                                      "headers": {"content-type": "text/html; charset=UTF-8", "server": "Google Frontend"}}}
    return behaviours


def scenario(saturated: bool) -> dict[str, Any]:
    name = "staging-vpc-connector-saturation" if saturated else "staging-healthy"
    summary = (
        "Every service answers 503: VPC connector staging-conn is pinned at capacity and starves Cloud SQL"
        if saturated else "The same staging fleet, all green, with connector headroom to spare"
    )
    expect: dict[str, Any] = (
        {"verdict": "down",
         "causes": [{"cause": "vpc_connector.saturated", "priority": "P0", "resource": CONNECTOR}],
         "absent": ["app.error"]}
        if saturated else {"verdict": "healthy", "noneAtOrAbove": "P1", "absent": ["vpc_connector.saturated"]}
    )
    return {
        "apiVersion": "infradiag/twin-v1",
        "name": name,
        "summary": summary,
        "project": PROJECT,
        "projectNumber": NUMBER,
        "region": REGION,
        "now": "2026-09-15T23:06:52Z",
        "run": {"services": [service(n) for n in SERVICES], "jobs": [job(saturated)]},
        "vpcaccess": {"connectors": [connector("staging-conn", 3)]},
        "monitoring": {"timeSeries": connector_series(saturated) + request_series(saturated)},
        "endpoints": endpoints(saturated),
        "expect": expect,
    }


class _Dumper(yaml.SafeDumper):
    pass


def _point_style(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = set(data) == {"interval", "value"}
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow or None)


_Dumper.add_representer(dict, _point_style)


def main() -> None:
    out = Path(__file__).resolve().parent.parent
    for saturated in (True, False):
        data = scenario(saturated)
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=4000, allow_unicode=True)
        header = f"# Generated by scenarios/build/staging.py; edit that script, not this file.\n# {data['summary']}\n"
        (out / f"{data['name']}.yaml").write_text(header + text)


if __name__ == "__main__":
    main()
