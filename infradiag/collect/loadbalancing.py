"""Compute Engine v1 load balancing: backend services, health checks, serverless NEGs, backend health, and
the instance groups and instances behind them.

Backend services, health checks and NEGs are global, regional or zonal, so each is read with one
aggregatedList call. backendServices.getHealth (regionBackendServices.getHealth for a regional backend
service) has no list form: it is asked once per non-serverless backend group, after the lists (serverless
NEGs have no health to ask for).

Instance groups (for their namedPorts) and instances (for their network tags and service accounts) are read
only when a judgement needs them, each with one aggregatedList call: the groups when an instance-group
backend has a health check, the instances when such a backend reports an instance that is not healthy.
Which instances belong to a group is taken from getHealth's answer (healthStatus[].instance), already read,
so instanceGroups.listInstances (one POST per group) is not needed; one instances.aggregatedList costs one
call (and its pages) whatever the number of groups and zones, where instances.list would cost one per zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from infradiag.collect.api import COMPUTE, Read, Route
from infradiag.collect.calls import Timeout
from infradiag.collect.compute import short
from infradiag.evidence import BackendEvidence, BackendServiceEvidence, HealthCheckEvidence
from infradiag.evidence.lbprobes import SETTINGS_FIELDS, link_key
from infradiag.evidence.loadbalancing import BackendInstanceEvidence

# https://cloud.google.com/compute/docs/reference/rest/v1/backendServices: timeoutSec defaults to 30.
DEFAULT_TIMEOUT_SEC = 30

_PROJECT = "/compute/v1/projects/{project}"
BACKEND_SERVICES = Read(
    "backend_services",
    COMPUTE,
    "compute.backendServices.aggregatedList",
    paginated=True,
    consequence="load balancer backend services could not be read (lb.* causes)",
    field="backend_services",
    route=Route("GET", f"{_PROJECT}/aggregated/backendServices"),
)
HEALTH_CHECKS = Read(
    "health_checks",
    COMPUTE,
    "compute.healthChecks.aggregatedList",
    paginated=True,
    consequence="health checks could not be read (lb.health_check_misconfigured)",
    field="health_checks",
    route=Route("GET", f"{_PROJECT}/aggregated/healthChecks"),
    fetch=lambda s, d: list_health_checks(s.clients.health_checks, s.project, d),
)
NEGS = Read(
    "negs",
    COMPUTE,
    "compute.networkEndpointGroups.aggregatedList",
    paginated=True,
    consequence="NEGs could not be read: serverless backends cannot be told from others",
    field="backend_services",
    route=Route("GET", f"{_PROJECT}/aggregated/networkEndpointGroups"),
)
BACKEND_HEALTH = Read(
    "backend_health",
    COMPUTE,
    "compute.backendServices.getHealth",
    paginated=False,
    consequence="backend health could not be read (lb.backend_unhealthy)",
    field="backend_services",
    route=Route("POST", f"{_PROJECT}/global/backendServices/{{backendService}}/getHealth"),
)
INSTANCE_GROUPS = Read(
    "instance_groups",
    COMPUTE,
    "compute.instanceGroups.aggregatedList",
    paginated=True,
    consequence="instance groups could not be read: which port health checks probe "
    "(lb.health_check_misconfigured)",
    field="backend_services",
    route=Route("GET", f"{_PROJECT}/aggregated/instanceGroups"),
)
INSTANCES = Read(
    "instances",
    COMPUTE,
    "compute.instances.aggregatedList",
    paginated=True,
    consequence="backend instances could not be read: whether firewall rules admit health-check probes",
    field="backend_services",
    route=Route("GET", f"{_PROJECT}/aggregated/instances"),
)
READS = (BACKEND_SERVICES, HEALTH_CHECKS, NEGS, BACKEND_HEALTH, INSTANCE_GROUPS, INSTANCES)


@dataclass(frozen=True)
class HealthQuery:
    """One backendServices.getHealth call: which backend service, which backend group."""

    backend_service: str  # short name
    region: str | None  # None: a global backend service
    group: str  # the backend's group URL, as the backend service names it


class BackendHealth(NamedTuple):
    """One getHealth answer: healthy and not healthy endpoints, and the instances it names."""

    healthy: int
    unhealthy: int
    instances: tuple[str, ...] = ()


def _scoped(pager: Any, field: str) -> list[Any]:
    return [item for _scope, scoped in pager for item in getattr(scoped, field)]


def list_backend_services(client: Any, project: str, timeout: Timeout) -> list[BackendServiceEvidence]:
    """Every backend service, global and regional (one aggregatedList call); backends are classified by URL
    only (`neg` or `instance_group`) until with_serverless_negs() knows which NEGs are serverless."""
    pager = client.aggregated_list(request={"project": project}, timeout=timeout, retry=None)
    return [backend_service_evidence(b) for b in _scoped(pager, "backend_services")]


def list_health_checks(client: Any, project: str, timeout: Timeout) -> list[HealthCheckEvidence]:
    """Every health check, global and regional (one aggregatedList call)."""
    pager = client.aggregated_list(request={"project": project}, timeout=timeout, retry=None)
    return [health_check_evidence(h) for h in _scoped(pager, "health_checks")]


def list_serverless_negs(client: Any, project: str, timeout: Timeout) -> dict[str, str | None]:
    """link_key(selfLink) -> Cloud Run service short name (None for App Engine or Cloud Functions) of every
    NEG whose networkEndpointType is SERVERLESS (one aggregatedList call)."""
    pager = client.aggregated_list(request={"project": project}, timeout=timeout, retry=None)
    return {
        link_key(neg.self_link): (neg.cloud_run.service or None) if "cloud_run" in neg else None
        for neg in _scoped(pager, "network_endpoint_groups")
        if neg.network_endpoint_type == "SERVERLESS"
    }


def get_backend_health(
    global_client: Any, regional_client: Any, project: str, query: HealthQuery, timeout: Timeout
) -> BackendHealth:
    """Healthy and not healthy endpoints of one backend group, and the instances named, from one getHealth
    call: backendServices.getHealth for a global backend service, regionBackendServices.getHealth for a
    regional one (https://cloud.google.com/compute/docs/reference/rest/v1/regionBackendServices/getHealth)."""
    # Global backend services and regional ones answer getHealth on clients of their own.
    regional = query.region is not None
    client, scope = (regional_client, {"region": query.region}) if regional else (global_client, {})
    health = client.get_health(
        project=project,
        **scope,
        backend_service=query.backend_service,
        resource_group_reference_resource={"group": query.group},
        timeout=timeout,
        retry=None,
    )
    healthy = sum(1 for status in health.health_status if status.health_state == "HEALTHY")
    instances = tuple(dict.fromkeys(s.instance for s in health.health_status if s.instance))
    return BackendHealth(healthy, len(health.health_status) - healthy, instances)


def list_instance_groups(client: Any, project: str, timeout: Timeout) -> dict[str, dict[str, list[int]]]:
    """link_key(selfLink) -> namedPorts (name -> ports, in order) of every instance group, zonal and regional
    (one instanceGroups.aggregatedList call). One name may map to several ports."""
    pager = client.aggregated_list(request={"project": project}, timeout=timeout, retry=None)
    found: dict[str, dict[str, list[int]]] = {}
    for group in _scoped(pager, "instance_groups"):
        ports: dict[str, list[int]] = {}
        for named in group.named_ports:
            ports.setdefault(named.name, []).append(named.port)
        found[link_key(group.self_link)] = ports
    return found


def list_instances(client: Any, project: str, timeout: Timeout) -> dict[str, BackendInstanceEvidence]:
    """link_key(selfLink) -> tags, service accounts and nic0 of every instance (one instances.aggregatedList
    call). Health-check probes arrive on nic0 for instance-group backends
    (https://cloud.google.com/load-balancing/docs/backend-service#backends), so its network is the one
    whose firewall rules apply."""
    pager = client.aggregated_list(request={"project": project}, timeout=timeout, retry=None)
    found = {}
    for vm in _scoped(pager, "instances"):
        nic0 = vm.network_interfaces[0] if vm.network_interfaces else None
        found[link_key(vm.self_link)] = BackendInstanceEvidence(
            name=vm.name,
            resource=vm.self_link,
            network=short(nic0.network) if nic0 is not None and nic0.network else None,
            address=(nic0.network_i_p or None) if nic0 is not None else None,
            tags=list(vm.tags.items) if "tags" in vm else [],
            service_accounts=[a.email for a in vm.service_accounts if a.email],
        )
    return found


def backend_service_evidence(service: Any) -> BackendServiceEvidence:
    """One compute_v1.BackendService."""
    return BackendServiceEvidence(
        name=service.name,
        resource=service.self_link or service.name,
        region=short(service.region) if service.region else None,
        protocol=service.protocol or None,
        load_balancing_scheme=service.load_balancing_scheme or None,
        port_name=service.port_name or None,
        timeout_sec=service.timeout_sec if "timeout_sec" in service else DEFAULT_TIMEOUT_SEC,
        health_checks=[short(h) for h in service.health_checks],
        health_check_links=list(service.health_checks),
        outlier_detection="outlier_detection" in service,
        backends=[
            BackendEvidence(
                group=b.group, kind="neg" if "/networkEndpointGroups/" in b.group else "instance_group"
            )
            for b in service.backends
        ],
    )


def health_check_evidence(check: Any) -> HealthCheckEvidence:
    """One compute_v1.HealthCheck; HTTP-like checks probe requestPath, "/" when unset."""
    settings_field = SETTINGS_FIELDS.get(check.type_)
    settings = getattr(check, settings_field) if settings_field and settings_field in check else None
    port = settings.port if settings is not None and "port" in settings else None
    port_name = (settings.port_name or None) if settings is not None else None
    specification = (settings.port_specification or None) if settings is not None else None
    path = None
    if check.type_ in ("HTTP", "HTTPS", "HTTP2"):
        path = (settings.request_path if settings is not None else "") or "/"
    return HealthCheckEvidence(
        name=check.name,
        resource=check.self_link or check.name,
        type=check.type_,
        region=short(check.region) if check.region else None,
        port=port,
        port_name=port_name,
        port_specification=specification,
        request_path=path,
    )


def with_serverless_negs(
    services: list[BackendServiceEvidence], negs: dict[str, str | None]
) -> list[BackendServiceEvidence]:
    """The backend services with every serverless NEG backend marked, and its Cloud Run service named."""
    marked = []
    for service in services:
        backends = [
            b.model_copy(update={"kind": "serverless_neg", "cloud_run_service": negs[link_key(b.group)]})
            if link_key(b.group) in negs
            else b
            for b in service.backends
        ]
        marked.append(service.model_copy(update={"backends": backends}))
    return marked


def health_queries(services: list[BackendServiceEvidence], negs_known: bool) -> list[HealthQuery]:
    """The getHealth calls to make: instance groups always; other NEGs only when the NEG list answered
    (without it, a serverless NEG cannot be told from a zonal one)."""
    return [
        HealthQuery(service.name, service.region, backend.group)
        for service in services
        for backend in service.backends
        if backend.kind == "instance_group" or (backend.kind == "neg" and negs_known)
    ]


def with_health(
    services: list[BackendServiceEvidence], health: Mapping[HealthQuery, BackendHealth | tuple[int, int]]
) -> list[BackendServiceEvidence]:
    """The backend services with each answered getHealth joined to its backend."""
    joined = []
    for service in services:
        backends = []
        for backend in service.backends:
            counts = health.get(HealthQuery(service.name, service.region, backend.group))
            if counts is not None:
                update: dict[str, Any] = {"healthy": counts[0], "unhealthy": counts[1]}
                if isinstance(counts, BackendHealth):
                    update["instance_links"] = list(counts.instances)
                backend = backend.model_copy(update=update)
            backends.append(backend)
        joined.append(service.model_copy(update={"backends": backends}))
    return joined


def needs_instance_groups(services: list[BackendServiceEvidence]) -> bool:
    """Whether some instance-group backend has a health check whose port its namedPorts resolve."""
    return any(s.health_checks and any(b.kind == "instance_group" for b in s.backends) for s in services)


def needs_instances(services: list[BackendServiceEvidence]) -> bool:
    """Whether some instance-group backend with a health check reports an instance that is not healthy."""
    return any(
        s.health_checks and b.kind == "instance_group" and (b.unhealthy or 0) > 0 and b.instance_links
        for s in services
        for b in s.backends
    )


def with_instance_groups(
    services: list[BackendServiceEvidence], groups: dict[str, dict[str, list[int]]]
) -> list[BackendServiceEvidence]:
    """The backend services with each instance-group backend's namedPorts, where the group was listed."""
    return [
        s.model_copy(
            update={
                "backends": [
                    b.model_copy(update={"named_ports": groups[link_key(b.group)]})
                    if b.kind == "instance_group" and link_key(b.group) in groups
                    else b
                    for b in s.backends
                ]
            }
        )
        for s in services
    ]


def with_instances(
    services: list[BackendServiceEvidence], instances: dict[str, BackendInstanceEvidence]
) -> list[BackendServiceEvidence]:
    """The backend services with the instances getHealth named for each backend, where they were listed, and
    how many instances of the project carry each of their tags."""
    carriers: dict[str, int] = {}
    for vm in instances.values():
        for tag in set(vm.tags):
            carriers[tag] = carriers.get(tag, 0) + 1

    def joined(backend: BackendEvidence) -> BackendEvidence:
        vms = [instances[link_key(i)] for i in backend.instance_links if link_key(i) in instances]
        reach = {tag: carriers[tag] for vm in vms for tag in vm.tags}
        return backend.model_copy(update={"instances": vms, "tag_reach": reach})

    return [s.model_copy(update={"backends": [joined(b) for b in s.backends]}) for s in services]
