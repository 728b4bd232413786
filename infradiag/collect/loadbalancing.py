"""Compute Engine v1 load balancing: backend services, health checks, serverless NEGs, backend health.

Backend services, health checks and NEGs are global, regional or zonal, so each is read with one
aggregatedList call. backendServices.getHealth has no list form: it is asked once per non-serverless
backend group, after the lists (serverless NEGs have no health to ask for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infradiag.collect.calls import Timeout
from infradiag.collect.compute import short
from infradiag.evidence import BackendEvidence, BackendServiceEvidence, HealthCheckEvidence

# https://cloud.google.com/compute/docs/reference/rest/v1/backendServices: timeoutSec defaults to 30.
DEFAULT_TIMEOUT_SEC = 30
# The HealthCheck field holding each type's settings
# (https://cloud.google.com/compute/docs/reference/rest/v1/healthChecks).
_HEALTH_CHECK_FIELDS = {
    "HTTP": "http_health_check",
    "HTTPS": "https_health_check",
    "HTTP2": "http2_health_check",
    "TCP": "tcp_health_check",
    "SSL": "ssl_health_check",
    "GRPC": "grpc_health_check",
    "GRPC_WITH_TLS": "grpc_tls_health_check",
}


def link_key(url: str) -> str:
    """A Compute reference in one form whatever its spelling (full URL, partial URL): from `projects/` on."""
    index = url.find("projects/")
    return url[index:] if index >= 0 else url


@dataclass(frozen=True)
class HealthQuery:
    """One backendServices.getHealth call: which backend service, which backend group."""

    backend_service: str  # short name
    region: str | None  # None: a global backend service
    group: str  # the backend's group URL, as the backend service names it


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
) -> tuple[int, int]:
    """(healthy, not healthy) endpoints of one backend group, from one getHealth call."""
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
    return healthy, len(health.health_status) - healthy


def backend_service_evidence(service: Any) -> BackendServiceEvidence:
    """One compute_v1.BackendService."""
    return BackendServiceEvidence(
        name=service.name,
        resource=service.self_link or service.name,
        region=short(service.region) if service.region else None,
        protocol=service.protocol or None,
        timeout_sec=service.timeout_sec if "timeout_sec" in service else DEFAULT_TIMEOUT_SEC,
        health_checks=[short(h) for h in service.health_checks],
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
    settings_field = _HEALTH_CHECK_FIELDS.get(check.type_)
    settings = getattr(check, settings_field) if settings_field and settings_field in check else None
    port = settings.port if settings is not None and "port" in settings else None
    path = None
    if check.type_ in ("HTTP", "HTTPS", "HTTP2"):
        path = (settings.request_path if settings is not None else "") or "/"
    return HealthCheckEvidence(
        name=check.name,
        resource=check.self_link or check.name,
        type=check.type_,
        port=port,
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
    services: list[BackendServiceEvidence], health: dict[HealthQuery, tuple[int, int]]
) -> list[BackendServiceEvidence]:
    """The backend services with each answered getHealth joined to its backend."""
    joined = []
    for service in services:
        backends = []
        for backend in service.backends:
            counts = health.get(HealthQuery(service.name, service.region, backend.group))
            if counts is not None:
                backend = backend.model_copy(update={"healthy": counts[0], "unhealthy": counts[1]})
            backends.append(backend)
        joined.append(service.model_copy(update={"backends": backends}))
    return joined
