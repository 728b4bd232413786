"""Writes one scenario per cause of the catalog, plus mixed, red-herring, latent and missing-permission ones.

Run from the repository root: `python scenarios/build/causes.py` (rewrites scenarios/cause-*.yaml and the
other scenarios named below; scenarios/build/staging.py writes the two staging ones).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fleet import (
    COMPUTE,
    CONNECTOR,
    DB_DOWN,
    DB_RESOURCE,
    DB_USERS,
    GFE_503,
    NAT,
    NETWORK,
    NUMBER,
    PROJECT,
    PUBSUB_RESET,
    REGION,
    REGION_URL,
    SERVICES,
    Fleet,
    Scenarios,
    cause,
    expect_connector_firewall_blocked,
    expect_sql_unavailable,
    expectation,
    revision,
    service,
)

SCENARIOS = Scenarios("scenarios/build/causes.py")
scenario = SCENARIOS.add
GFE = {"status": 503, "delayMs": 60, "body": GFE_503, "headers": {"content-type": "text/html; charset=UTF-8"}}
STAGING_WEB = f"{COMPUTE}/global/backendServices/staging-web"


def service_name(name: str) -> str:
    """The full resource name of Cloud Run service `name`."""
    return f"projects/{PROJECT}/locations/{REGION}/services/{name}"


def expect_on_service(f: Fleet, name: str, finding: str, absent: Sequence[str] = ()) -> None:
    """Expects `finding` as the P1 cause on Cloud Run service `name`, the run degraded, and no `absent`."""
    f.expect = expectation("degraded", cause(finding, "P1", service_name(name)), absent=absent)


def add_health_check(f: Fleet, number: str, name: str, protocol: str, port: int) -> str:
    """Adds global health check `name`, of /healthz over `protocol` (HTTP or HTTPS) on `port`; returns its
    selfLink."""
    link = f"{COMPUTE}/global/healthChecks/{name}"
    check = {"port": port, "requestPath": "/healthz"}
    f.compute["healthChecks"].append(
        {
            "kind": "compute#healthCheck",
            "id": number,
            "name": name,
            "type": protocol,
            f"{protocol.lower()}HealthCheck": check,
            "selfLink": link,
        }
    )
    return link


def check_serverless_backend(f: Fleet) -> None:
    """Attaches an HTTPS health check to staging-web, whose one backend is frontend's serverless NEG."""
    f.compute["backendServices"][0]["healthChecks"] = [
        add_health_check(f, "8002", "staging-web-hc", "HTTPS", 443)
    ]


@scenario
def connector_not_ready() -> Fleet:
    f = Fleet(
        "cause-vpc-connector-not-ready", "Connector staging-conn is in ERROR; every service behind it fails"
    )
    f.connectors[0]["state"] = "ERROR"
    f.fail(SERVICES, DB_DOWN)
    f.expect = expectation(
        "down",
        cause("vpc_connector.not_ready", "P0", CONNECTOR),
        absent=["app.error", "app.dependency_failing"],
    )
    return f


@scenario
def connector_missing() -> Fleet:
    f = Fleet("cause-vpc-connector-missing", "backend and auth route through a connector that was deleted")
    old = f"projects/{PROJECT}/locations/{REGION}/connectors/staging-conn-old"
    for name in ("backend", "auth"):
        f.services[name]["template"]["vpcAccess"]["connector"] = old
    f.fail(("backend", "auth"), DB_DOWN)
    f.expect = expectation(
        "degraded", cause("vpc_connector.missing", "P1", old), absent=["app.dependency_failing"]
    )
    return f


@scenario
def connector_region_mismatch() -> Fleet:
    f = Fleet("cause-vpc-connector-region-mismatch", "worker names a connector in us-east1")
    east = f"projects/{PROJECT}/locations/us-east1/connectors/east-conn"
    f.services["worker"]["template"]["vpcAccess"]["connector"] = east
    f.fail(("worker",), DB_DOWN)
    f.expect = expectation("degraded", cause("vpc_connector.region_mismatch", "P1", east))
    return f


@scenario
def connector_firewall_blocked() -> Fleet:
    f = Fleet(
        "cause-vpc-connector-firewall-blocked",
        "An egress deny rule cuts the connector off from Cloud SQL's private IP",
    )
    f.deny_egress_to_sql()
    expect_connector_firewall_blocked(f)
    return f


@scenario
def connector_firewall_masked() -> Fleet:
    # Targets decide: an allow targeted at tag `bar` (p45) never applies to connector instances, whose only
    # network tags are vpc-connector and vpc-connector-REGION-NAME
    # (https://cloud.google.com/vpc/docs/serverless-vpc-access#network-tags), so the untargeted deny (p50)
    # wins.
    f = Fleet(
        "cause-vpc-connector-firewall-masked",
        "An allow rule for tag bar outranks the deny-all egress but never applies to the connector",
    )
    f.add_firewall(
        "allow-egress-bar",
        "EGRESS",
        45,
        allowed=[{"IPProtocol": "all"}],
        destinationRanges=["0.0.0.0/0"],
        targetTags=["bar"],
    )
    f.add_firewall(
        "deny-all-egress", "EGRESS", 50, denied=[{"IPProtocol": "all"}], destinationRanges=["0.0.0.0/0"]
    )
    expect_connector_firewall_blocked(f)
    return f


@scenario
def egress_without_nat() -> Fleet:
    f = Fleet("cause-vpc-egress-without-nat", "websocket sends all egress into a VPC with no Cloud NAT")
    f.compute["routers"] = []
    f.services["websocket"]["template"]["vpcAccess"]["egress"] = "ALL_TRAFFIC"
    f.fail(
        ("websocket",), {"status": 503, "delayMs": 200, "json": {"status": "unhealthy", "pubsub": "timeout"}}
    )
    f.expect = expectation(
        "degraded", cause("vpc.egress_without_nat", "P1", CONNECTOR), absent=["app.dependency_failing"]
    )
    return f


@scenario
def nat_exhausted() -> Fleet:
    f = Fleet("cause-vpc-nat-exhausted", "Cloud NAT runs out of ports for the services' all-traffic egress")
    for name in ("websocket", "frontend"):
        f.services[name]["template"]["vpcAccess"]["egress"] = "ALL_TRAFFIC"
    # Both fields as routers.list returns them (as in gcpdiag's captured router, test-data/nat1).
    f.compute["routers"][0]["nats"][0].update(
        {"enableDynamicPortAllocation": False, "enableEndpointIndependentMapping": False}
    )
    f.nat_dropped = 420
    f.fail(("websocket",), PUBSUB_RESET)
    f.expect = expectation("degraded", cause("vpc.nat_exhausted", "P1", NAT))
    return f


@scenario
def direct_egress_subnet_small() -> Fleet:
    f = Fleet(
        "cause-vpc-direct-egress-subnet-small", "frontend uses Direct VPC egress on a /28 but may scale to 20"
    )
    f.compute["subnetworks"].append(Fleet.subnet("run-egress", "10.9.0.0/28"))
    vpc = f.services["frontend"]["template"]["vpcAccess"]
    vpc.pop("connector")
    vpc["networkInterfaces"] = [{"network": "staging-vpc", "subnetwork": "run-egress"}]
    f.expect = expectation(
        "degraded", cause("vpc.direct_egress_subnet_small", "P1", f"{REGION_URL}/subnetworks/run-egress")
    )
    return f


@scenario
def revision_not_ready() -> Fleet:
    f = Fleet("cause-run-revision-not-ready", "admin's new revision fails to start and no revision can serve")
    s = f.services["admin"]
    message = (
        "Revision 'admin-00043-xyz' is not ready and cannot serve traffic. The user-provided container "
        "failed to start and listen on the port defined provided by the PORT=8080 environment variable."
    )
    s["latestCreatedRevision"] = service_name("admin") + "/revisions/admin-00043-xyz"
    s["terminalCondition"] = {
        "type": "Ready",
        "state": "CONDITION_FAILED",
        "reason": "REVISION_FAILED",
        "message": message,
    }
    f.revisions = [
        revision("admin", "admin-00042-abc"),
        revision("admin", "admin-00043-xyz", ready=False, message=message),
    ]
    f.fail(("admin",), GFE)
    expect_on_service(f, "admin", "run.revision_not_ready", absent=["app.error"])
    return f


@scenario
def revision_never_ready() -> Fleet:
    # A service whose first revision never became ready: Cloud Run gives it no uri and no latestReadyRevision
    # (both output only, https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services), and
    # says why in its Ready condition; this message is the one of
    # https://cloud.google.com/run/docs/troubleshooting for an image in another project that the Cloud Run
    # service agent may not read.
    f = Fleet(
        "cause-run-revision-never-ready",
        "billing never became ready: its image is in another project that its service agent may not read",
    )
    image = "us-docker.pkg.dev/acme-shared/apps/billing:2026-09-15"
    message = (
        "Revision 'billing-00001-abc' is not ready and cannot serve traffic. Google Cloud Run Service Agent "
        f"service-{NUMBER}@serverless-robot-prod.iam.gserviceaccount.com must have permission to read the "
        f"image, {image}. Ensure that the provided container image URL is correct and that the above account "
        "has permission to access the image. If you just enabled the Cloud Run API, the permissions might "
        "take a few minutes to propagate. Note that the image is from project [acme-shared], which is not "
        f"the same as this project [{PROJECT}]. Permission must be granted to the Google Cloud Run Service "
        "Agent from this project."
    )
    s = service("billing")
    s["template"]["containers"][0]["image"] = image
    for key in ("uri", "urls", "latestReadyRevision", "trafficStatuses"):
        s.pop(key)
    s["latestCreatedRevision"] = service_name("billing") + "/revisions/billing-00001-abc"
    failed = {
        "state": "CONDITION_FAILED",
        "reason": "REVISION_FAILED",
        "message": message,
        "lastTransitionTime": "2026-09-15T22:40:00Z",
    }
    s["terminalCondition"] = {"type": "Ready", **failed}
    s["conditions"] = [{"type": "ConfigurationsReady", **failed}, {"type": "RoutesReady", **failed}]
    f.services["billing"] = s
    never = revision("billing", "billing-00001-abc", ready=False, message=message)
    never["containers"] = [{"image": image}]
    f.revisions = [never]
    expect_on_service(f, "billing", "run.revision_not_ready", absent=["app.error"])
    return f


@scenario
def traffic_misrouted() -> Fleet:
    f = Fleet("cause-run-traffic-misrouted", "frontend's traffic is pinned to a revision that was deleted")
    f.services["frontend"]["traffic"] = [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "frontend-00012-old", "percent": 100}
    ]
    f.revisions = [revision(n, f"{n}-00042-abc") for n in SERVICES]
    f.fail(("frontend",), GFE)
    expect_on_service(f, "frontend", "run.traffic_misrouted", absent=["app.error"])
    return f


@scenario
def max_instances_reached() -> Fleet:
    f = Fleet(
        "cause-run-max-instances-reached", "websocket runs all 10 allowed instances and rejects with 429"
    )
    f.services["websocket"]["template"]["scaling"]["maxInstanceCount"] = 10
    f.run_load["websocket"]["active"] = 10
    f.fail(
        ("websocket",),
        {"status": 429, "delayMs": 5, "body": "Rate exceeded.", "headers": {"content-type": "text/plain"}},
    )
    expect_on_service(f, "websocket", "run.max_instances_reached")
    return f


@scenario
def memory_exhausted() -> Fleet:
    f = Fleet("cause-run-memory-exhausted", "worker's containers hit their memory limit and crash")
    f.run_load["worker"].update(memory=0.99, errors=35)
    f.fail(
        ("worker",),
        {"status": 503, "delayMs": 40, "body": "upstream connect error or disconnect/reset before headers"},
    )
    expect_on_service(f, "worker", "run.memory_exhausted", absent=["app.error"])
    return f


@scenario
def request_timeout() -> Fleet:
    f = Fleet(
        "cause-run-request-timeout", "admin's requests wait on a slow dependency until the 60 s timeout"
    )
    f.services["admin"]["template"]["timeout"] = "60s"
    f.run_load["admin"]["latency_ms"] = 60000.0
    f.fail(("admin",), {"status": 504, "delayMs": 150, "body": "upstream request timeout"})
    expect_on_service(f, "admin", "run.request_timeout", absent=["app.error"])
    return f


@scenario
def cold_start() -> Fleet:
    f = Fleet("cause-run-cold-start", "frontend scales to zero and takes 9 s to start")
    f.services["frontend"]["template"]["scaling"]["minInstanceCount"] = 0
    f.run_load["frontend"]["startup_ms"] = 9000.0
    f.expect = expectation(
        "healthy", cause("run.cold_start", "P2", service_name("frontend")), none_at_or_above="P1"
    )
    return f


@scenario
def ingress_blocked() -> Fleet:
    f = Fleet("cause-run-ingress-blocked", "admin was switched to internal-only ingress")
    f.services["admin"]["ingress"] = "INGRESS_TRAFFIC_INTERNAL_ONLY"
    f.fail(
        ("admin",),
        {
            "status": 404,
            "delayMs": 5,
            "body": "<html><title>404 Page not found</title></html>",
            "headers": {"content-type": "text/html"},
        },
    )
    expect_on_service(f, "admin", "run.ingress_blocked")
    return f


@scenario
def invoker_denied() -> Fleet:
    f = Fleet("cause-run-invoker-denied", "auth went private: only frontend may invoke it")
    f.iam[service_name("auth")] = {
        "version": 1,
        "etag": "BwYk2d3xQ9E=",
        "bindings": [
            {
                "role": "roles/run.invoker",
                "members": [f"serviceAccount:frontend@{PROJECT}.iam.gserviceaccount.com"],
            }
        ],
    }
    f.fail(
        ("auth",),
        {
            "status": 403,
            "delayMs": 5,
            "headers": {"content-type": "text/html"},
            "body": "<html><title>403 Forbidden</title>Error: Forbidden Your client does not have permission "
            "to get URL /health from this server.</html>",
        },
    )
    expect_on_service(f, "auth", "run.invoker_denied")
    return f


@scenario
def sql_unavailable() -> Fleet:
    # Down for maintenance in its own window (Tuesday 23:00 UTC; settings.maintenanceWindow.day 1 is Monday).
    # A stopped instance (activation policy NEVER, still RUNNABLE) and suspended ones are in sql_cases.py.
    f = Fleet("cause-sql-instance-unavailable", "Cloud SQL staging-db is down for maintenance in its window")
    f.sql[0]["state"] = "MAINTENANCE"
    f.sql[0]["settings"]["maintenanceWindow"] = {
        "kind": "sql#maintenanceWindow",
        "day": 2,
        "hour": 23,
        "updateTrack": "stable",
    }
    f.sql[0]["scheduledMaintenance"] = {
        "startTime": "2026-09-15T23:00:00Z",
        "canDefer": False,
        "canReschedule": False,
    }
    expect_sql_unavailable(f, absent=["app.dependency_failing"])
    return f


@scenario
def sql_max_connections() -> Fleet:
    f = Fleet("cause-sql-max-connections", "staging-db is out of connections: 398 of 400 in use")
    f.sql_backends = {"app": 300, "auth": 98}
    f.fail(
        DB_USERS,
        {
            "status": 503,
            "delayMs": 50,
            "json": {"status": "unhealthy", "database": "FATAL: sorry, too many clients already"},
        },
    )
    f.expect = expectation(
        "degraded",
        cause("sql.max_connections_exhausted", "P0", DB_RESOURCE),
        absent=["app.dependency_failing", "vpc_connector.saturated"],
    )
    return f


@scenario
def sql_cpu() -> Fleet:
    f = Fleet("cause-sql-cpu-saturated", "staging-db's CPU is pinned and its services time out")
    f.sql_cpu = 0.97
    f.fail(("backend",), DB_DOWN)
    f.expect = expectation("degraded", cause("sql.cpu_saturated", "P1", DB_RESOURCE))
    return f


@scenario
def lb_backend_unhealthy() -> Fleet:
    f = Fleet(
        "cause-lb-backend-unhealthy",
        "The legacy API's instance group behind the load balancer is all unhealthy",
    )
    group = f"{COMPUTE}/zones/{REGION}-a/instanceGroups/legacy-api-ig"
    legacy_hc = add_health_check(f, "8001", "legacy-hc", "HTTP", 8080)
    f.compute["backendServices"].append(
        {
            "kind": "compute#backendService",
            "id": "5002",
            "name": "legacy-api",
            "selfLink": f"{COMPUTE}/global/backendServices/legacy-api",
            "protocol": "HTTP",
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "timeoutSec": 30,
            "healthChecks": [legacy_hc],
            "backends": [{"group": group, "balancingMode": "UTILIZATION", "capacityScaler": 1}],
        }
    )
    f.compute["backendServiceHealth"]["legacy-api"] = {
        "kind": "compute#backendServiceGroupHealth",
        "healthStatus": [
            {
                "instance": f"{COMPUTE}/zones/{REGION}-a/instances/legacy-{i}",
                "ipAddress": f"10.0.0.{10 + i}",
                "port": 8080,
                "healthState": "UNHEALTHY",
            }
            for i in (1, 2)
        ],
    }
    # The group serves named port http on 8080, which the health check probes and staging-allow-health-checks
    # admits from the probe ranges: the firewall is not why the VMs are unhealthy (the app is).
    f.compute["backendServices"][-1]["portName"] = "http"
    zone = f"{COMPUTE}/zones/{REGION}-a"
    f.compute["instanceGroups"] = [
        {
            "kind": "compute#instanceGroup",
            "id": "8101",
            "name": "legacy-api-ig",
            "zone": zone,
            "network": NETWORK,
            "size": 2,
            "namedPorts": [{"name": "http", "port": 8080}],
            "selfLink": group,
        }
    ]
    f.compute["instances"] = [
        {
            "kind": "compute#instance",
            "id": f"910{i}",
            "name": f"legacy-{i}",
            "zone": zone,
            "status": "RUNNING",
            "tags": {"items": ["legacy-api"]},
            "networkInterfaces": [{"name": "nic0", "network": NETWORK, "networkIP": f"10.0.0.{10 + i}"}],
            "serviceAccounts": [{"email": f"{NUMBER}-compute@developer.gserviceaccount.com"}],
            "selfLink": f"{zone}/instances/legacy-{i}",
        }
        for i in (1, 2)
    ]
    f.expect = expectation(
        "degraded",
        cause("lb.backend_unhealthy", "P1", f"{COMPUTE}/global/backendServices/legacy-api"),
        absent=["lb.health_check_misconfigured"],
    )
    return f


@scenario
def lb_health_check_on_serverless() -> Fleet:
    f = Fleet(
        "cause-lb-health-check-misconfigured",
        "A health check was attached to the serverless NEG backend of frontend",
    )
    check_serverless_backend(f)
    f.expect = expectation("degraded", cause("lb.health_check_misconfigured", "P1", STAGING_WEB))
    return f


@scenario
def lb_backend_timeout() -> Fleet:
    f = Fleet(
        "cause-lb-backend-timeout", "The load balancer gives frontend 30 s while frontend may take 300 s"
    )
    f.compute["backendServices"][0].pop("timeoutSec")
    f.expect = expectation("healthy", cause("lb.backend_timeout", "P2", STAGING_WEB), none_at_or_above="P1")
    return f


@scenario
def app_dependency() -> Fleet:
    f = Fleet(
        "cause-app-dependency-failing", "auth reports its Redis down while the infrastructure is healthy"
    )
    f.fail(
        ("auth",),
        {"status": 503, "delayMs": 20, "json": {"status": "unhealthy", "database": "ok", "redis": "down"}},
    )
    expect_on_service(f, "auth", "app.dependency_failing", absent=["app.error"])
    return f


@scenario
def app_error() -> Fleet:
    f = Fleet("cause-app-error", "backend answers 500 while everything under it is healthy")
    f.fail(
        ("backend",),
        {"status": 500, "delayMs": 30, "json": {"error": "NullPointerException in HealthController"}},
    )
    expect_on_service(f, "backend", "app.error")
    return f


@scenario
def tls_invalid() -> Fleet:
    f = Fleet("cause-tls-certificate-invalid", "frontend serves an expired certificate")
    f.fail(("frontend",), {"status": 200, "fault": "tls-expired"})
    expect_on_service(f, "frontend", "tls.certificate_invalid")
    return f


@scenario
def tls_expiring() -> Fleet:
    # The twin signs the certificate with its own CA, which a triage that starts the twin trusts as it would
    # a public one: the certificate verifies, and only its notAfter, 5 days after the machine's clock, is
    # wrong.
    f = Fleet("cause-tls-certificate-expiring", "frontend serves a valid certificate that expires in 5 days")
    f.fail(("frontend",), {"status": 200, "fault": "tls-expiring", "expiresInDays": 5})
    # Every probe passes: the verdict is about now, the finding about the days left (P2 beyond 3 of them).
    f.expect = expectation(
        "healthy",
        cause("tls.certificate_expiring", "P2", service_name("frontend")),
        absent=["tls.certificate_invalid"],
    )
    return f


@scenario
def dns_resolution_failed() -> Fleet:
    # Every Cloud Run URL answers; what fails is the custom domain users reach frontend by, which the
    # `staging-custom-domain` environment of infradiag.toml probes. Its DNS record is gone: `.invalid` never
    # resolves (RFC 6761), on this machine as anywhere, so the scenario needs no network to mean the same.
    f = Fleet(
        "cause-dns-resolution-failed",
        "frontend's custom domain no longer resolves (probed through infradiag.toml's staging-custom-domain)",
    )
    expect_on_service(f, "frontend", "dns.resolution_failed")
    return f


@scenario
def incident_full() -> Fleet:
    f = Fleet(
        "staging-incident-full",
        "The seed incident with everything around it: saturated connector, LB health check, "
        "LB timeout shorter than the request timeout, and no alert on the connector",
    )
    f.connectors[0]["maxInstances"] = 3
    f.connector_load["staging-conn"] = (0.97, 3)
    f.fail(SERVICES, DB_DOWN)
    check_serverless_backend(f)
    f.compute["backendServices"][0].pop("timeoutSec")
    f.alert_policies = [
        p for p in f.alert_policies if "vpcaccess" not in p["conditions"][0]["conditionThreshold"]["filter"]
    ]
    f.expect = expectation(
        "down",
        cause("vpc_connector.saturated", "P0", CONNECTOR),
        cause("lb.health_check_misconfigured", "P1", STAGING_WEB),
        cause("lb.backend_timeout", "P2", STAGING_WEB),
        cause("monitoring.alert_gap", "P3", CONNECTOR),
        absent=["app.error", "app.dependency_failing"],
    )
    return f


@scenario
def two_causes() -> Fleet:
    f = Fleet(
        "mixed-sql-connections-and-memory",
        "Two causes at once: staging-db out of connections, websocket out of memory",
    )
    f.sql_backends = {"app": 330, "auth": 70}
    f.fail(
        DB_USERS,
        {"status": 503, "delayMs": 50, "json": {"status": "unhealthy", "database": "too many clients"}},
    )
    f.run_load["websocket"].update(memory=0.99, errors=12)
    f.fail(("websocket",), {"status": 503, "delayMs": 30, "body": "upstream connect error"})
    f.expect = expectation(
        "degraded",
        cause("sql.max_connections_exhausted", "P0", DB_RESOURCE),
        cause("run.memory_exhausted", "P1", service_name("websocket")),
        absent=["app.error", "app.dependency_failing"],
    )
    return f


@scenario
def red_herring() -> Fleet:
    f = Fleet(
        "red-herring-saturated-connector-unused",
        "A batch connector is pinned, but no failing service uses it: backend fails on its own",
    )
    batch = f"projects/{PROJECT}/locations/{REGION}/connectors/batch-conn"
    f.connectors.append(
        {
            "name": batch,
            "network": "staging-vpc",
            "ipCidrRange": "10.8.1.0/28",
            "state": "READY",
            "minInstances": 2,
            "maxInstances": 3,
            "machineType": "e2-micro",
        }
    )
    f.fail(("backend",), {"status": 500, "delayMs": 20, "json": {"error": "panic: nil map"}})
    f.connector_load["batch-conn"] = (0.98, 3)
    f.expect = expectation(
        "degraded",
        cause("app.error", "P1", service_name("backend")),
        cause("vpc_connector.saturated", "P2", batch),
        absent=["vpc_connector.not_ready"],
    )
    return f


@scenario
def headroom_nearly_gone() -> Fleet:
    f = Fleet(
        "healthy-connector-headroom-nearly-gone",
        "Every probe green, but connector staging-conn runs at 85 % CPU",
    )
    f.connector_load["staging-conn"] = (0.85, 2)
    f.expect = expectation(
        "healthy", cause("vpc_connector.saturated", "P2", CONNECTOR), none_at_or_above="P1"
    )
    return f


@scenario
def missing_permissions() -> Fleet:
    f = Fleet("missing-permissions", "infradiag may not read Monitoring, and the Compute API is disabled")
    f.api_faults = [
        {"api": "monitoring", "error": "PERMISSION_DENIED"},
        {"api": "compute", "error": "PERMISSION_DENIED", "reason": "SERVICE_DISABLED"},
    ]
    # Every probe answers, but what could not be read may hide a cause: never "healthy" then.
    f.expect = expectation("degraded", unknowns=["monitoring", "compute"], none_at_or_above="P1")
    return f


if __name__ == "__main__":
    SCENARIOS.main()
