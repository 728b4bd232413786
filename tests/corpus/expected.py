"""What each raw Google resource says, as the evidence fields infradiag should read from it.

Written from Google's REST references, independently of infradiag/collect/, so that a collector that misreads
a field (or a default) disagrees with these functions. Each returns a plain dict comparable with
`EvidenceModel.model_dump(include=...)`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

Json = dict[str, Any]

# https://cloud.google.com/compute/docs/reference/rest/v1/firewalls: priority defaults to 1000, direction to
# INGRESS, network to global/networks/default.
FIREWALL_DEFAULTS = {"priority": 1000, "direction": "INGRESS", "network": "global/networks/default"}
# https://cloud.google.com/compute/docs/reference/rest/v1/backendServices: timeoutSec defaults to 30.
BACKEND_TIMEOUT_DEFAULT = 30
# https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services: template.timeout
# defaults to 300s.
RUN_TIMEOUT_DEFAULT = 300.0
# https://cloud.google.com/vpc/docs/subnets#unusable-ip-addresses-in-every-subnet: four reserved addresses.
RESERVED_PER_SUBNET = 4
# https://cloud.google.com/compute/docs/reference/rest/v1/healthChecks: the settings field of each type.
HEALTH_CHECK_FIELDS = {
    "HTTP": "httpHealthCheck",
    "HTTPS": "httpsHealthCheck",
    "HTTP2": "http2HealthCheck",
    "TCP": "tcpHealthCheck",
    "SSL": "sslHealthCheck",
    "GRPC": "grpcHealthCheck",
}
NAT_IP_PORTS = 64512
_SQL_PORTS = {"POSTGRES": 5432, "MYSQL": 3306, "SQLSERVER": 1433}


def last(url: str) -> str:
    """The last segment of a URL or resource name."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def firewall(raw: Json) -> Json:
    """A firewall rule (compute#firewall) as FirewallEvidence fields."""
    entries = raw.get("allowed") or raw.get("denied") or []
    return {
        "name": raw["name"],
        "network": last(raw.get("network", FIREWALL_DEFAULTS["network"])),
        "direction": raw.get("direction", FIREWALL_DEFAULTS["direction"]),
        "priority": raw.get("priority", FIREWALL_DEFAULTS["priority"]),
        "action": "allow" if raw.get("allowed") else "deny",
        "rules": [{"protocol": e["IPProtocol"].lower(), "ports": e.get("ports", [])} for e in entries],
        "source_ranges": raw.get("sourceRanges", []),
        "destination_ranges": raw.get("destinationRanges", []),
        "target_tags": raw.get("targetTags", []),
        "target_service_accounts": raw.get("targetServiceAccounts", []),
        "source_tags": raw.get("sourceTags", []),
        "source_service_accounts": raw.get("sourceServiceAccounts", []),
        "disabled": raw.get("disabled", False),
    }


def subnet(raw: Json) -> Json:
    """A subnetwork as SubnetEvidence fields."""
    prefix = ipaddress.ip_network(raw["ipCidrRange"], strict=False).prefixlen
    return {
        "name": raw["name"],
        "network": last(raw["network"]),
        "region": last(raw["region"]),
        "ip_cidr_range": raw["ipCidrRange"],
        "prefix_length": prefix,
        "usable_addresses": 2 ** (32 - prefix) - RESERVED_PER_SUBNET,
    }


def _power_of_two_at_least(value: int) -> int:
    power = 1
    while power < value:
        power *= 2
    return power


def nats(router: Json) -> list[Json]:
    """The NAT gateways of a Cloud Router as NatEvidence fields, with their port capacity.

    From the RouterNat reference (https://cloud.google.com/compute/docs/reference/rest/v1/routers):
    minPortsPerVm "is rounded up to the nearest power of 2", and when unset is 64 (32 with dynamic port
    allocation, which "if not specified, is disabled"); https://cloud.google.com/nat/docs/ports-and-addresses:
    each NAT IP address has 64,512 usable ports, so MANUAL_ONLY gateways serve len(natIps) x 64512 / ports
    per VM VMs."""
    found = []
    for nat in router.get("nats", []):
        dynamic = nat.get("enableDynamicPortAllocation", False)
        min_ports = nat.get("minPortsPerVm") or (32 if dynamic else 64)
        per_vm = _power_of_two_at_least(min_ports)
        option = nat.get("natIpAllocateOption")
        capacity = len(nat.get("natIps", [])) * NAT_IP_PORTS if option == "MANUAL_ONLY" else None
        found.append(
            {
                "name": nat["name"],
                "router": router["name"],
                "network": last(router["network"]),
                "region": last(router["region"]),
                "all_subnets": nat.get("sourceSubnetworkIpRangesToNat", "").startswith(
                    "ALL_SUBNETWORKS_ALL_"
                ),
                "nat_ip_allocate_option": option,
                "nat_ips": [last(ip) for ip in nat.get("natIps", [])],
                "enable_dynamic_port_allocation": dynamic,
                "min_ports_per_vm": min_ports,
                "ports_per_vm": per_vm,
                "port_capacity": capacity,
                "vms_with_ports": capacity // per_vm if capacity is not None else None,
            }
        )
    return found


def sql_instance(raw: Json) -> Json:
    """A Cloud SQL instance (sql#instance) as SqlInstanceEvidence fields."""
    engine = raw["databaseVersion"].split("_", 1)[0]
    private = [a["ipAddress"] for a in raw.get("ipAddresses", []) if a.get("type") == "PRIVATE"]
    network = raw["settings"].get("ipConfiguration", {}).get("privateNetwork")
    return {
        "name": raw["name"],
        "connection_name": raw.get("connectionName") or f"{raw['project']}:{raw['region']}:{raw['name']}",
        "region": raw["region"],
        "state": raw["state"],
        "engine": engine,
        "database_version": raw["databaseVersion"],
        "tier": raw["settings"]["tier"],
        "instance_type": raw.get("instanceType"),
        # masterInstanceName is "project:instance" or the bare instance name.
        "master_instance": raw["masterInstanceName"].rsplit(":", 1)[-1]
        if raw.get("masterInstanceName")
        else None,
        "activation_policy": raw["settings"].get("activationPolicy"),
        "private_ip": private[0] if private else None,
        "private_network": last(network) if network else None,
        "port": _SQL_PORTS[engine],
    }


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", duration)
    assert match, duration
    return float(match.group(1))


def service(raw: Json) -> Json:
    """A Cloud Run v2 service as ServiceEvidence fields."""
    terminal = raw.get("terminalCondition", {})
    template = raw.get("template", {})
    return {
        "name": last(raw["name"]),
        "resource": raw["name"],
        "region": raw["name"].split("/")[3],
        "uri": raw.get("uri"),
        "ingress": raw.get("ingress"),
        "ready": terminal.get("state") == "CONDITION_SUCCEEDED" if terminal else True,
        "ready_message": terminal.get("message"),
        "latest_ready_revision": raw.get("latestReadyRevision"),
        "latest_created_revision": raw.get("latestCreatedRevision"),
        "max_instances": template.get("scaling", {}).get("maxInstanceCount"),
        "timeout_seconds": _seconds(template["timeout"]) if "timeout" in template else RUN_TIMEOUT_DEFAULT,
    }


def connector(raw: Json) -> Json:
    """A Serverless VPC Access connector as ConnectorEvidence fields."""
    return {
        "name": last(raw["name"]),
        "resource": raw["name"],
        "state": raw.get("state"),
        "network": raw.get("network"),
        "ip_cidr_range": raw.get("ipCidrRange"),
        # https://cloud.google.com/vpc/docs/reference/vpcaccess/rest/v1/projects.locations.connectors:
        # machineType defaults to e2-micro.
        "machine_type": raw.get("machineType", "e2-micro"),
        "min_instances": raw.get("minInstances"),
        "max_instances": raw.get("maxInstances"),
    }


def backend_service(raw: Json, health: dict[str, Json], groups: list[Json]) -> Json:
    """A backend service as BackendServiceEvidence fields; `health` holds the captured getHealth answers
    by `global/backendServices/S` or `regions/R/backendServices/S`, `groups` the captured instance groups
    (whose namedPorts a backend's traffic goes to)."""
    by_link = {g["selfLink"]: g for g in groups}
    region = last(raw["region"]) if "region" in raw else None
    scope = f"regions/{region}" if region else "global"
    answer = health.get(f"{scope}/backendServices/{raw['name']}")
    statuses = answer.get("healthStatus", []) if answer is not None else None
    backends = []
    for backend in raw.get("backends", []):
        entry: Json = {"group": backend["group"]}
        group = by_link.get(backend["group"])
        if group is not None:
            ports: dict[str, list[int]] = {}
            for named in group.get("namedPorts", []):
                ports.setdefault(named["name"], []).append(named["port"])
            entry["named_ports"] = ports
        if statuses is not None:
            healthy = sum(1 for s in statuses if s.get("healthState") == "HEALTHY")
            entry.update(healthy=healthy, unhealthy=len(statuses) - healthy)
        backends.append(entry)
    return {
        "name": raw["name"],
        "resource": raw["selfLink"],
        "region": region,
        "protocol": raw.get("protocol"),
        "load_balancing_scheme": raw.get("loadBalancingScheme"),
        "port_name": raw.get("portName"),
        "timeout_sec": raw.get("timeoutSec", BACKEND_TIMEOUT_DEFAULT),
        "health_checks": [last(h) for h in raw.get("healthChecks", [])],
        "health_check_links": raw.get("healthChecks", []),
        "outlier_detection": "outlierDetection" in raw,
        "backends": backends,
    }


def health_check(raw: Json) -> Json:
    """A health check as HealthCheckEvidence fields; HTTP-like checks probe requestPath, "/" when unset."""
    settings = raw.get(HEALTH_CHECK_FIELDS.get(raw["type"], ""), {})
    path = settings.get("requestPath") or "/" if raw["type"] in ("HTTP", "HTTPS", "HTTP2") else None
    return {
        "name": raw["name"],
        "resource": raw["selfLink"],
        "type": raw["type"],
        "region": last(raw["region"]) if "region" in raw else None,
        "port": settings.get("port"),
        "port_name": settings.get("portName"),
        "port_specification": settings.get("portSpecification"),
        "request_path": path,
    }
