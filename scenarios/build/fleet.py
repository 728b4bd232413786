"""A healthy, fully furnished staging project to derive one scenario per cause from.

Everything is written as the public REST APIs return it (docs/scenario-format.md). A scenario function takes a
fresh Fleet, breaks one thing and states its expectation; the build script's Scenarios writes the files. Each
script writes into scenarios/, or into the folder given as its one argument (to compare a regeneration with
the files before replacing them).
"""

from __future__ import annotations

import copy
import sys
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from infradiag.twin.series import (
    delta_distribution,
    delta_int,
    fraction_distribution,
    gauge_bool,
    gauge_distribution,
    gauge_double,
    gauge_int,
    ms_distribution,
)

PROJECT, NUMBER, REGION = "acme-staging", "123456789012", "us-central1"
NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=timezone.utc)
MINUTES = 20
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"
NETWORK = f"{COMPUTE}/global/networks/staging-vpc"
REGION_URL = f"{COMPUTE}/regions/{REGION}"
CONNECTOR = f"projects/{PROJECT}/locations/{REGION}/connectors/staging-conn"
DB = "staging-db"
DB_CONNECTION = f"{PROJECT}:{REGION}:{DB}"
DB_USERS = ("backend", "auth", "worker", "admin")
SERVICES = ("backend", "auth", "websocket", "frontend", "worker", "admin")
GFE_503 = (
    "<!DOCTYPE html>\n<html lang=en>\n<title>503 Server Error</title>\n<h1>Error: Server Error</h1>\n"
    "<h2>The service you requested is not available yet. Please try again in 30 seconds.</h2>\n"
)
OK = {"*": {"status": 200, "json": {"status": "ok"}, "delayMs": 15}}
SCENARIO_FOLDER = Path(__file__).resolve().parent.parent
DB_RESOURCE = f"projects/{PROJECT}/instances/{DB}"
NAT = f"projects/{PROJECT}/regions/{REGION}/routers/staging-router/nats/staging-nat"
# A service whose database does not answer: its health check gives up after 0.3 s.
DB_DOWN = {"status": 503, "delayMs": 300, "json": {"status": "unhealthy", "database": "timeout after 0.3s"}}
# A service whose Pub/Sub connection, which leaves by Cloud NAT, was reset.
PUBSUB_RESET = {"status": 502, "delayMs": 100, "json": {"status": "unhealthy", "pubsub": "connection reset"}}


def service(name: str) -> dict[str, Any]:
    full = f"projects/{PROJECT}/locations/{REGION}/services/{name}"
    revision = f"{full}/revisions/{name}-00042-abc"
    template: dict[str, Any] = {
        "scaling": {"minInstanceCount": 1, "maxInstanceCount": 20},
        "vpcAccess": {"connector": CONNECTOR, "egress": "PRIVATE_RANGES_ONLY"},
        "timeout": "300s",
        "serviceAccount": f"{name}@{PROJECT}.iam.gserviceaccount.com",
        "containers": [{
            "image": f"us-docker.pkg.dev/{PROJECT}/apps/{name}:2026-09-15",
            "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
            "ports": [{"name": "http1", "containerPort": 8080}],
            "startupProbe": {"tcpSocket": {"port": 8080}, "timeoutSeconds": 240, "periodSeconds": 240, "failureThreshold": 1},
        }],
        "maxInstanceRequestConcurrency": 80,
    }
    if name in DB_USERS:
        template["volumes"] = [{"name": "cloudsql", "cloudSqlInstance": {"instances": [DB_CONNECTION]}}]
        template["containers"][0]["volumeMounts"] = [{"name": "cloudsql", "mountPath": "/cloudsql"}]
    succeeded = {"state": "CONDITION_SUCCEEDED", "lastTransitionTime": "2026-09-15T09:13:10Z"}
    return {
        "name": full,
        "uid": f"00000000-0000-4000-8000-{zlib.crc32(name.encode()):012d}",
        "generation": "42",
        "createTime": "2026-03-02T10:00:00Z",
        "updateTime": "2026-09-15T09:12:00Z",
        "ingress": "INGRESS_TRAFFIC_ALL",
        "launchStage": "GA",
        "template": template,
        "traffic": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "observedGeneration": "42",
        "terminalCondition": {"type": "Ready", **succeeded},
        "conditions": [{"type": "RoutesReady", **succeeded}, {"type": "ConfigurationsReady", **succeeded}],
        "latestReadyRevision": revision,
        "latestCreatedRevision": revision,
        "trafficStatuses": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "uri": f"https://{name}-abcdefghij-uc.a.run.app",
        "urls": [f"https://{name}-{NUMBER}.{REGION}.run.app"],
    }


def revision(service_name: str, short: str, ready: bool = True, message: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": "Ready", "state": "CONDITION_SUCCEEDED" if ready else "CONDITION_FAILED"}
    if message:
        condition["message"] = message
    return {
        "name": f"projects/{PROJECT}/locations/{REGION}/services/{service_name}/revisions/{short}",
        "service": f"projects/{PROJECT}/locations/{REGION}/services/{service_name}",
        "generation": "1",
        "createTime": "2026-09-15T09:12:00Z",
        "conditions": [condition],
        "containers": [{"image": f"us-docker.pkg.dev/{PROJECT}/apps/{service_name}:2026-09-15"}],
    }


def alert_policy(number: int, display: str, metric: str, resource: str, aligner: str, threshold: float) -> dict[str, Any]:
    name = f"projects/{PROJECT}/alertPolicies/{number}"
    return {
        "name": name,
        "displayName": display,
        "enabled": True,
        "combiner": "OR",
        "conditions": [{
            "name": f"{name}/conditions/{number}1",
            "displayName": display,
            "conditionThreshold": {
                "filter": f'metric.type="{metric}" AND resource.type="{resource}"',
                "comparison": "COMPARISON_GT",
                "thresholdValue": threshold,
                "duration": "300s",
                "aggregations": [{"alignmentPeriod": "60s", "perSeriesAligner": aligner}],
            },
        }],
    }


def cause(name: str, priority: str, resource: str) -> dict[str, str]:
    """One finding an `expect` block requires: its cause, priority and resource."""
    return {"cause": name, "priority": priority, "resource": resource}


def expectation(
    verdict: str,
    *causes: dict[str, str],
    unknowns: Sequence[str] = (),
    none_at_or_above: str | None = None,
    absent: Sequence[str] = (),
) -> dict[str, Any]:
    """An `expect` block (docs/scenario-format.md): the verdict, then only the keys given, always in the order
    verdict, unknowns, noneAtOrAbove, causes, absent."""
    expect: dict[str, Any] = {"verdict": verdict}
    if unknowns:
        expect["unknowns"] = list(unknowns)
    if none_at_or_above:
        expect["noneAtOrAbove"] = none_at_or_above
    if causes:
        expect["causes"] = list(causes)
    if absent:
        expect["absent"] = list(absent)
    return expect


def sql_database_resource(instance: str) -> dict[str, Any]:
    """The monitored resource of Cloud SQL instance `instance`'s metrics."""
    return {
        "type": "cloudsql_database",
        "labels": {"project_id": PROJECT, "database_id": f"{PROJECT}:{instance}", "region": REGION},
    }


def connection_series(resource: dict[str, Any], backends: dict[str, int]) -> list[dict[str, Any]]:
    """num_backends of each database of `backends` on `resource`: its count less 0 to 2, every minute."""
    metric = "cloudsql.googleapis.com/database/postgresql/num_backends"
    return [
        gauge_int(
            {"type": metric, "labels": {"database": database}},
            resource,
            NOW,
            MINUTES,
            lambda age, count=count: count - (age % 3),
        )
        for database, count in backends.items()
    ]


def nat_gateway_resource() -> dict[str, Any]:
    """The monitored resource of the staging router's NAT gateway's metrics."""
    return {
        "type": "nat_gateway",
        "labels": {
            "project_id": PROJECT,
            "region": REGION,
            "router_id": "4001",
            "gateway_name": "staging-nat",
        },
    }


class Fleet:
    """The healthy fleet; attributes are the knobs a cause scenario turns."""

    def __init__(self, name: str, summary: str) -> None:
        self.name = name
        self.summary = summary
        self.services = {n: service(n) for n in SERVICES}
        self.revisions: list[dict[str, Any]] = []
        self.connectors = [{
            "name": CONNECTOR, "network": "staging-vpc", "ipCidrRange": "10.8.0.0/28", "state": "READY",
            "minThroughput": 200, "maxThroughput": 1000, "minInstances": 2, "maxInstances": 10, "machineType": "e2-micro",
        }]
        self.compute: dict[str, Any] = {
            "networks": [{"kind": "compute#network", "id": "1001", "name": "staging-vpc", "selfLink": NETWORK,
                          "autoCreateSubnetworks": False, "routingConfig": {"routingMode": "REGIONAL"}}],
            "subnetworks": [self.subnet("staging-subnet", "10.0.0.0/20")],
            "firewalls": [
                self.firewall("staging-allow-internal", "INGRESS", 1000, allowed=[{"IPProtocol": "tcp"}, {"IPProtocol": "udp"}],
                              sourceRanges=["10.0.0.0/8"]),
                self.firewall("staging-allow-health-checks", "INGRESS", 1000, allowed=[{"IPProtocol": "tcp", "ports": ["80", "443", "8080"]}],
                              sourceRanges=["35.191.0.0/16", "130.211.0.0/22"]),
            ],
            "routers": [{
                "kind": "compute#router", "id": "4001", "name": "staging-router", "network": NETWORK, "region": REGION_URL,
                "selfLink": f"{REGION_URL}/routers/staging-router",
                "nats": [{"name": "staging-nat", "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
                          "natIpAllocateOption": "AUTO_ONLY", "minPortsPerVm": 64}],
            }],
            "backendServices": [{
                "kind": "compute#backendService", "id": "5001", "name": "staging-web",
                "selfLink": f"{COMPUTE}/global/backendServices/staging-web", "protocol": "HTTPS",
                "loadBalancingScheme": "EXTERNAL_MANAGED", "timeoutSec": 300,
                "backends": [{"group": f"{REGION_URL}/networkEndpointGroups/frontend-neg", "balancingMode": "UTILIZATION",
                              "capacityScaler": 1}],
            }],
            "healthChecks": [],
            "networkEndpointGroups": [{
                "kind": "compute#networkEndpointGroup", "id": "6001", "name": "frontend-neg", "networkEndpointType": "SERVERLESS",
                "region": REGION_URL, "cloudRun": {"service": "frontend"}, "selfLink": f"{REGION_URL}/networkEndpointGroups/frontend-neg",
            }],
            "urlMaps": [{
                "kind": "compute#urlMap", "id": "7001", "name": "staging-web-map", "selfLink": f"{COMPUTE}/global/urlMaps/staging-web-map",
                "defaultService": f"{COMPUTE}/global/backendServices/staging-web",
                "hostRules": [{"hosts": ["staging.acme.example"], "pathMatcher": "main"}],
                "pathMatchers": [{"name": "main", "defaultService": f"{COMPUTE}/global/backendServices/staging-web"}],
            }],
            "forwardingRules": [],
            "backendServiceHealth": {},
        }
        self.sql = [{
            "kind": "sql#instance", "name": DB, "project": PROJECT, "region": REGION, "databaseVersion": "POSTGRES_15",
            "state": "RUNNABLE", "connectionName": DB_CONNECTION, "backendType": "SECOND_GEN",
            "instanceType": "CLOUD_SQL_INSTANCE", "gceZone": f"{REGION}-a",
            "settings": {"tier": "db-custom-2-7680", "activationPolicy": "ALWAYS", "availabilityType": "ZONAL",
                         "dataDiskSizeGb": "100", "databaseFlags": [],
                         "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": f"projects/{PROJECT}/global/networks/staging-vpc"}},
            "ipAddresses": [{"type": "PRIVATE", "ipAddress": "10.20.0.3"}],
            "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{PROJECT}/instances/{DB}",
        }]
        self.alert_policies = [
            alert_policy(1001, "VPC connector CPU high", "vpcaccess.googleapis.com/connector/cpu/utilizations",
                         "vpc_access_connector", "ALIGN_PERCENTILE_95", 0.9),
            alert_policy(1002, "Cloud Run 5xx", "run.googleapis.com/request_count", "cloud_run_revision", "ALIGN_RATE", 1),
            alert_policy(1003, "Cloud SQL connections", "cloudsql.googleapis.com/database/postgresql/num_backends",
                         "cloudsql_database", "ALIGN_MAX", 350),
            alert_policy(1004, "Cloud SQL CPU", "cloudsql.googleapis.com/database/cpu/utilization",
                         "cloudsql_database", "ALIGN_MAX", 0.9),
            alert_policy(1005, "Cloud Run memory", "run.googleapis.com/container/memory/utilizations",
                         "cloud_run_revision", "ALIGN_PERCENTILE_99", 0.9),
        ]
        self.iam: dict[str, Any] = {}
        self.endpoints: dict[str, Any] = {n: copy.deepcopy(OK) for n in SERVICES}
        self.api_faults: list[dict[str, Any]] = []
        self.expect: dict[str, Any] = {}
        # Metric levels over the window (flat unless a scenario overrides them).
        self.connector_load = {"staging-conn": (0.35, 2)}  # connector short name -> (CPU p95 level, instances)
        self.sql_backends = {"app": 60, "auth": 25}
        self.sql_cpu = 0.3
        self.sql_up = 1
        self.nat_dropped = 0
        self.run_load = {n: {"active": 2, "memory": 0.45, "latency_ms": 80.0, "startup_ms": 1500.0, "errors": 0} for n in SERVICES}

    @staticmethod
    def subnet(name: str, cidr: str) -> dict[str, Any]:
        return {"kind": "compute#subnetwork", "id": str(2000 + len(name)), "name": name, "network": NETWORK,
                "ipCidrRange": cidr, "region": REGION_URL, "selfLink": f"{REGION_URL}/subnetworks/{name}",
                "privateIpGoogleAccess": True, "purpose": "PRIVATE", "stackType": "IPV4_ONLY"}

    @staticmethod
    def firewall(name: str, direction: str, priority: int, **rule: Any) -> dict[str, Any]:
        return {"kind": "compute#firewall", "id": str(3000 + len(name)), "name": name, "network": NETWORK,
                "priority": priority, "direction": direction, "disabled": False,
                "selfLink": f"{COMPUTE}/global/firewalls/{name}", **rule}

    def add_firewall(self, name: str, direction: str, priority: int, **rule: Any) -> None:
        """Adds VPC firewall rule `name` (fields as Compute returns them) to the network's rules."""
        self.compute["firewalls"].append(self.firewall(name, direction, priority, **rule))

    def deny_egress_to_sql(self) -> None:
        """Adds VPC rule deny-egress-private: TCP egress to Cloud SQL's private range 10.20.0.0/16 denied at
        priority 900."""
        tcp, private = [{"IPProtocol": "tcp"}], ["10.20.0.0/16"]
        self.add_firewall("deny-egress-private", "EGRESS", 900, denied=tcp, destinationRanges=private)

    def fail(self, names: list[str] | tuple[str, ...], behaviour: dict[str, Any]) -> None:
        """Make these services answer every path with `behaviour`."""
        for name in names:
            self.endpoints[name] = {"*": behaviour}

    def series(self) -> list[dict[str, Any]]:
        series: list[dict[str, Any]] = []
        for connector, (cpu, instances) in self.connector_load.items():
            connector_resource = {"type": "vpc_access_connector",
                                  "labels": {"project_id": PROJECT, "location": REGION, "connector_name": connector}}
            series.append(gauge_distribution(
                {"type": "vpcaccess.googleapis.com/connector/cpu/utilizations", "labels": {}}, connector_resource, NOW,
                MINUTES, lambda age, cpu=cpu: [cpu - 0.02, cpu, cpu + 0.01]))
            series.append(gauge_int({"type": "vpcaccess.googleapis.com/connector/instances", "labels": {}},
                                    connector_resource, NOW, MINUTES, lambda age, n=instances: n))
        db_resource = sql_database_resource(DB)
        series.extend(connection_series(db_resource, self.sql_backends))
        sql_cpu, sql_up = self.sql_cpu, self.sql_up
        series.append(gauge_double({"type": "cloudsql.googleapis.com/database/cpu/utilization", "labels": {}},
                                   db_resource, NOW, MINUTES, lambda age: sql_cpu))
        series.append(gauge_int({"type": "cloudsql.googleapis.com/database/up", "labels": {}},
                                db_resource, NOW, MINUTES, lambda age: sql_up))
        nat_resource = nat_gateway_resource()
        dropped = self.nat_dropped
        series.append(delta_int({"type": "router.googleapis.com/nat/dropped_sent_packets_count",
                                 "labels": {"ip_protocol": "TCP", "reason": "OUT_OF_RESOURCES"}},
                                nat_resource, NOW, MINUTES, lambda age: dropped))
        series.append(gauge_bool({"type": "router.googleapis.com/nat/nat_allocation_failed", "labels": {}},
                                 nat_resource, NOW, MINUTES, lambda age: False))
        for name, svc in self.services.items():
            if "uri" not in svc:
                continue  # a service that never served has no request, instance or startup metrics
            load = self.run_load[name]
            resource = {"type": "cloud_run_revision", "labels": {
                "project_id": PROJECT, "location": REGION, "service_name": name,
                "revision_name": f"{name}-00042-abc", "configuration_name": name}}
            series.append(gauge_int({"type": "run.googleapis.com/container/instance_count", "labels": {"state": "active"}},
                                    resource, NOW, MINUTES, lambda age, n=load["active"]: n))
            series.append(delta_distribution(
                {"type": "run.googleapis.com/container/memory/utilizations", "labels": {}}, resource, NOW, MINUTES,
                lambda age, m=load["memory"]: fraction_distribution([m - 0.05, m, m + 0.004])))
            series.append(delta_distribution(
                {"type": "run.googleapis.com/request_latencies", "labels": {}}, resource, NOW, MINUTES,
                lambda age, ms=load["latency_ms"]: ms_distribution([ms * 0.5, ms, ms * 1.1] * 10)))
            series.append(delta_distribution(
                {"type": "run.googleapis.com/container/startup_latencies", "labels": {}}, resource, NOW, MINUTES,
                lambda age, ms=load["startup_ms"]: ms_distribution([ms * 0.9, ms])))
            for code_class, count in (("2xx", 120), ("5xx", load["errors"])):
                series.append(delta_int({"type": "run.googleapis.com/request_count",
                                         "labels": {"response_code_class": code_class}},
                                        resource, NOW, MINUTES, lambda age, c=count: c))
        return series

    def scenario(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "apiVersion": "infradiag/twin-v1",
            "name": self.name,
            "summary": self.summary,
            "project": PROJECT,
            "projectNumber": NUMBER,
            "region": REGION,
            "now": "2026-09-15T23:06:52Z",
            "run": {"services": list(self.services.values())},
            "vpcaccess": {"connectors": self.connectors},
            "compute": self.compute,
            "sql": {"instances": self.sql},
            "monitoring": {"timeSeries": self.series(), "alertPolicies": self.alert_policies},
            "endpoints": self.endpoints,
        }
        if self.revisions:
            data["run"]["revisions"] = self.revisions
        if self.iam:
            data["iam"] = self.iam
        if self.api_faults:
            data["apiFaults"] = self.api_faults
        data["expect"] = self.expect
        return data

    def write(self, folder: Path, script: str) -> Path:
        """Writes the scenario to folder/NAME.yaml under a header that names `script` as its source."""
        path = folder / f"{self.name}.yaml"
        text = yaml.dump(self.scenario(), Dumper=_Dumper, sort_keys=False, width=4000, allow_unicode=True)
        path.write_text(
            f"# Generated by {script}; edit that script, not this file.\n# {self.summary}\n{text}"
        )
        return path


class Scenarios:
    """The scenarios of one build script, in the order it declares them (`@SCENARIOS.add`), and the writing of
    their files under a header that names `script`."""

    def __init__(self, script: str) -> None:
        self.script = script
        self.builds: list[Callable[[], Fleet]] = []

    def add(self, build: Callable[[], Fleet]) -> Callable[[], Fleet]:
        """Declares `build` a scenario of this script; returns it unchanged."""
        self.builds.append(build)
        return build

    def write(self, folder: Path = SCENARIO_FOLDER) -> list[Path]:
        """Builds every scenario afresh and writes each to folder/NAME.yaml; returns the paths in order."""
        return [build().write(folder, self.script) for build in self.builds]

    def main(self) -> None:
        """The script's command line: writes into the folder named by its one argument, scenarios/ without."""
        self.write(Path(sys.argv[1]) if len(sys.argv) > 1 else SCENARIO_FOLDER)


def expect_connector_firewall_blocked(
    f: Fleet, absent: Sequence[str] = ("vpc_connector.saturated", "app.dependency_failing")
) -> None:
    """Every service fails waiting on Cloud SQL, which a firewall keeps the connector from reaching: expects
    that block as the P0 cause on the connector, and the run down."""
    f.fail(SERVICES, DB_DOWN)
    f.expect = expectation("down", cause("vpc_connector.firewall_blocked", "P0", CONNECTOR), absent=absent)


def expect_sql_unavailable(f: Fleet, absent: Sequence[str]) -> None:
    """staging-db does not run: its `up` metric is 0 and every service that uses it fails waiting on it;
    expects sql.instance_unavailable as the P0 cause on it."""
    f.sql_up = 0
    f.fail(DB_USERS, DB_DOWN)
    f.expect = expectation("degraded", cause("sql.instance_unavailable", "P0", DB_RESOURCE), absent=absent)


class _Dumper(yaml.SafeDumper):
    pass


def _point_style(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True if set(data) == {"interval", "value"} else None)


_Dumper.add_representer(dict, _point_style)
