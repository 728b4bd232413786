"""Cloud Run Admin API v2: services, flattened into ServiceEvidence."""

from __future__ import annotations

from typing import Any

from infradiag.evidence import ServiceEvidence

# https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services#Service
DEFAULT_TIMEOUT_S = 300.0


def list_services(client: Any, project: str, region: str, timeout_s: float) -> list[ServiceEvidence]:
    """Every service in the region (one paginated list call), as evidence."""
    pager = client.list_services(
        parent=f"projects/{project}/locations/{region}", timeout=timeout_s, retry=None
    )
    return [service_evidence(service, project) for service in pager]


def _connector_name(raw: str, project: str, region: str) -> str | None:
    # The field takes a short name or projects/{project id or number}/locations/L/connectors/C;
    # normalise to the id form so the diagnosis can join services to connectors.
    if not raw:
        return None
    if "/" not in raw:
        return f"projects/{project}/locations/{region}/connectors/{raw}"
    parts = raw.split("/")
    if len(parts) == 6 and parts[1].isdigit():
        parts[1] = project
    return "/".join(parts)


def _health_paths(template: Any) -> list[str]:
    paths: list[str] = []
    for container in template.containers:
        for probe in (container.startup_probe, container.liveness_probe):
            if "http_get" in probe and probe.http_get.path and probe.http_get.path not in paths:
                paths.append(probe.http_get.path)
    return paths


def service_evidence(service: Any, project: str) -> ServiceEvidence:
    """One run_v2.Service as ServiceEvidence (names shortened, enums as their names)."""
    parts = service.name.split("/")
    region = parts[3]
    template = service.template
    condition = service.terminal_condition
    ready = condition.state.name == "CONDITION_SUCCEEDED" if condition.type_ else True
    timeout = template.timeout.total_seconds() if template.timeout else DEFAULT_TIMEOUT_S
    return ServiceEvidence(
        name=parts[-1],
        resource=service.name,
        region=region,
        uri=service.uri or None,
        ingress=service.ingress.name,
        connector=_connector_name(template.vpc_access.connector, project, region),
        egress=template.vpc_access.egress.name if template.vpc_access.connector else None,
        min_instances=template.scaling.min_instance_count,
        max_instances=template.scaling.max_instance_count or None,
        timeout_seconds=timeout,
        health_paths=_health_paths(template),
        ready=ready,
        ready_message=condition.message or None,
        latest_ready_revision=service.latest_ready_revision or None,
        latest_created_revision=service.latest_created_revision or None,
    )
