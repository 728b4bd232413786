"""Writes the load balancer scenarios beyond the one-per-cause ones: regional backend services, health checks
that probe a port the backends do not serve, and firewall rules that keep Google's probes out.

Run from the repository root: `python scenarios/build/lb_cases.py` (rewrites scenarios/cause-lb-regional-*,
cause-lb-health-check-*-port*.yaml and cause-lb-probes-*.yaml). tests/test_lb_scenarios.py checks the
commands of their findings, which an `expect` block cannot.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from fleet import COMPUTE, NETWORK, NUMBER, REGION, REGION_URL, Fleet, Scenarios, cause, expectation

SCENARIOS = Scenarios("scenarios/build/lb_cases.py")
scenario = SCENARIOS.add
ZONE = f"{REGION}-a"
ZONE_URL = f"{COMPUTE}/zones/{ZONE}"


def instance(name: str, address: str, tags: list[str]) -> dict[str, Any]:
    """A running VM of an instance group, as instances.get returns it (the fields firewall rules read)."""
    return {
        "kind": "compute#instance",
        "id": str(9000 + int(address.rsplit(".", 1)[1])),
        "name": name,
        "zone": ZONE_URL,
        "machineType": f"{ZONE_URL}/machineTypes/e2-small",
        "status": "RUNNING",
        "tags": {"items": tags, "fingerprint": "42WmSpB8rSM="},
        "networkInterfaces": [
            {
                "kind": "compute#networkInterface",
                "name": "nic0",
                "network": NETWORK,
                "subnetwork": f"{REGION_URL}/subnetworks/staging-subnet",
                "networkIP": address,
                "stackType": "IPV4_ONLY",
            }
        ],
        "serviceAccounts": [
            {
                "email": f"{NUMBER}-compute@developer.gserviceaccount.com",
                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            }
        ],
        "selfLink": f"{ZONE_URL}/instances/{name}",
    }


def named_port(port: int = 8080, name: str = "http") -> list[dict[str, Any]]:
    """An instance group's namedPorts: the one port `name` its backend service sends to."""
    return [{"name": name, "port": port}]


def http_health_check(fixed_port: int | None = None) -> dict[str, Any]:
    """An HTTP health check of /healthz on the backends' serving port, or on `fixed_port`."""
    serving = {"portSpecification": "USE_SERVING_PORT"}
    fixed = {"port": fixed_port, "portSpecification": "USE_FIXED_PORT"}
    return {
        "type": "HTTP",
        "httpHealthCheck": {**(fixed if fixed_port else serving), "requestPath": "/healthz"},
    }


def instance_group_backend(
    f: Fleet,
    name: str,
    named_ports: list[dict[str, Any]],
    health_check: dict[str, Any],
    *,
    region: str | None = None,
    healthy: bool = False,
    tags: list[str] | None = None,
    scheme: str = "EXTERNAL_MANAGED",
    port_name: str | None = "http",
) -> str:
    """Adds an unmanaged instance group of two VMs behind backend service `name`, probed by `health_check`;
    returns the backend service's selfLink. `region` makes the backend service and health check regional."""
    group = f"{ZONE_URL}/instanceGroups/{name}-ig"
    scope = f"{COMPUTE}/regions/{region}" if region else f"{COMPUTE}/global"
    vms = [instance(f"{name}-{i}", f"10.0.0.{10 + i}", tags if tags is not None else [name]) for i in (1, 2)]
    f.compute.setdefault("instances", []).extend(vms)
    f.compute.setdefault("instanceGroups", []).append(
        {
            "kind": "compute#instanceGroup",
            "id": str(8100 + len(name)),
            "name": f"{name}-ig",
            "zone": ZONE_URL,
            "network": NETWORK,
            "subnetwork": f"{REGION_URL}/subnetworks/staging-subnet",
            "size": 2,
            "namedPorts": named_ports,
            "fingerprint": "42WmSpB8rSM=",
            "selfLink": group,
        }
    )
    check = {
        "kind": "compute#healthCheck",
        "id": str(8200 + len(name)),
        "name": f"{name}-hc",
        "checkIntervalSec": 5,
        "timeoutSec": 5,
        "healthyThreshold": 2,
        "unhealthyThreshold": 2,
        "selfLink": f"{scope}/healthChecks/{name}-hc",
        **health_check,
    }
    if region:
        check["region"] = f"{COMPUTE}/regions/{region}"
    f.compute["healthChecks"].append(check)
    service: dict[str, Any] = {
        "kind": "compute#backendService",
        "id": str(5100 + len(name)),
        "name": name,
        "selfLink": f"{scope}/backendServices/{name}",
        "protocol": "HTTP",
        "loadBalancingScheme": scheme,
        "timeoutSec": 30,
        "healthChecks": [check["selfLink"]],
        "backends": [{"group": group, "balancingMode": "UTILIZATION", "capacityScaler": 1}],
    }
    if port_name:
        service["portName"] = port_name
    if region:
        service["region"] = f"{COMPUTE}/regions/{region}"
    f.compute["backendServices"].append(service)
    f.compute["backendServiceHealth"][service["selfLink"]] = {
        "kind": "compute#backendServiceGroupHealth",
        "healthStatus": [
            {
                "instance": vm["selfLink"],
                "ipAddress": vm["networkInterfaces"][0]["networkIP"],
                "port": 8080,
                "healthState": "HEALTHY" if healthy else "UNHEALTHY",
            }
            for vm in vms
        ],
    }
    return str(service["selfLink"])


@scenario
def regional_serverless_health_check() -> Fleet:
    f = Fleet(
        "cause-lb-regional-health-check-on-serverless",
        "A regional health check was attached to the regional backend service of the internal frontend",
    )
    regional = f"{REGION_URL}/backendServices/internal-web"
    f.compute["healthChecks"].append(
        {
            "kind": "compute#healthCheck",
            "id": "8301",
            "name": "internal-web-hc",
            "type": "HTTP",
            "region": REGION_URL,
            "httpHealthCheck": {"port": 80, "portSpecification": "USE_FIXED_PORT", "requestPath": "/"},
            "selfLink": f"{REGION_URL}/healthChecks/internal-web-hc",
        }
    )
    f.compute["backendServices"].append(
        {
            "kind": "compute#backendService",
            "id": "5301",
            "name": "internal-web",
            "selfLink": regional,
            "region": REGION_URL,
            "protocol": "HTTP",
            "loadBalancingScheme": "INTERNAL_MANAGED",
            "timeoutSec": 300,
            "healthChecks": [f"{REGION_URL}/healthChecks/internal-web-hc"],
            "backends": [
                {
                    "group": f"{REGION_URL}/networkEndpointGroups/frontend-neg",
                    "balancingMode": "UTILIZATION",
                    "capacityScaler": 1,
                }
            ],
        }
    )
    f.expect = expectation("degraded", cause("lb.health_check_misconfigured", "P1", regional))
    return f


@scenario
def regional_probes_blocked() -> Fleet:
    f = Fleet(
        "cause-lb-regional-probes-blocked",
        "The regional internal API is all unhealthy: a deny-all ingress rule outranks the health-check allow",
    )
    resource = instance_group_backend(
        f, "internal-api", named_port(), http_health_check(), region=REGION, scheme="INTERNAL_MANAGED"
    )
    f.add_firewall(
        "staging-deny-all-ingress", "INGRESS", 900, denied=[{"IPProtocol": "all"}], sourceRanges=["0.0.0.0/0"]
    )
    f.expect = expectation(
        "degraded", cause("lb.backend_unhealthy", "P1", resource), absent=["lb.health_check_misconfigured"]
    )
    return f


@scenario
def health_check_wrong_fixed_port() -> Fleet:
    f = Fleet(
        "cause-lb-health-check-wrong-port",
        "The legacy API serves on 8080 (named port http) but its health check probes fixed port 80",
    )
    resource = instance_group_backend(f, "legacy-api", named_port(), http_health_check(fixed_port=80))
    f.expect = expectation("degraded", cause("lb.health_check_misconfigured", "P1", resource))
    return f


@scenario
def health_check_named_port_missing() -> Fleet:
    f = Fleet(
        "cause-lb-health-check-named-port-missing",
        "The legacy API's backend service sends to named port http, which its instance group does not define",
    )
    resource = instance_group_backend(
        f,
        "legacy-api",
        named_port(name="web"),
        {"type": "TCP", "tcpHealthCheck": {"portSpecification": "USE_SERVING_PORT"}},
    )
    f.expect = expectation("degraded", cause("lb.health_check_misconfigured", "P1", resource))
    return f


@scenario
def probes_implied_deny() -> Fleet:
    f = Fleet(
        "cause-lb-probes-blocked-implied-deny",
        "The legacy API moved to port 9000; no firewall rule admits the health-check ranges there",
    )
    resource = instance_group_backend(
        f, "legacy-api", named_port(9000), http_health_check(), tags=["legacy-api", "http-server"]
    )
    # Another web VM carries http-server too: a rule on that tag would open it as well.
    f.compute["instances"].append(instance("static-web-1", "10.0.0.20", ["http-server"]))
    f.expect = expectation(
        "degraded", cause("lb.backend_unhealthy", "P1", resource), absent=["lb.health_check_misconfigured"]
    )
    return f


if __name__ == "__main__":
    SCENARIOS.main()
