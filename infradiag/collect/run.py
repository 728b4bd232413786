"""Cloud Run Admin API v2: services, revisions, invoker policies and jobs, flattened into evidence."""

from __future__ import annotations

from typing import Any

from google.cloud.run_v2 import types as run_v2

from infradiag.collect.api import IAM, RUN, Read, Route
from infradiag.collect.calls import Timeout
from infradiag.evidence import (
    ConditionEvidence,
    InvokerEvidence,
    RevisionEvidence,
    ServiceEvidence,
    TrafficTargetEvidence,
)
from infradiag.evidence.model import JobEvidence

# https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services#Service
DEFAULT_TIMEOUT_S = 300.0
INVOKER_ROLE = "roles/run.invoker"


SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED
FAILED = run_v2.Condition.State.CONDITION_FAILED
LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST

# Large pages keep a fleet's listing one call deep; the API documents no maximum page size.
PAGE_SIZE = 1000


def list_services(client: Any, project: str, region: str, timeout: Timeout) -> list[ServiceEvidence]:
    """Every service in the region (one paginated list call), as evidence."""
    pager = client.list_services(
        request={"parent": f"projects/{project}/locations/{region}", "page_size": PAGE_SIZE},
        timeout=timeout,
        retry=None,
    )
    return [service_evidence(service, project) for service in pager]


def list_revisions(client: Any, project: str, region: str, timeout: Timeout) -> list[RevisionEvidence]:
    """Every revision of every service in the region, in one paginated list call: the parent's service
    "-" means all services (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services.revisions/list)."""
    pager = client.list_revisions(
        request={"parent": f"projects/{project}/locations/{region}/services/-", "page_size": PAGE_SIZE},
        timeout=timeout,
        retry=None,
    )
    return [revision_evidence(revision) for revision in pager]


_LOCATION = "/v2/projects/{project}/locations/{location}"
SERVICES = Read(
    "services",
    RUN,
    "run.projects.locations.services.list",
    paginated=True,
    consequence="Cloud Run services could not be listed: URLs, connectors and readiness are unknown",
    field="services",
    route=Route("GET", f"{_LOCATION}/services"),
)
REVISIONS = Read(
    "revisions",
    RUN,
    "run.projects.locations.services.revisions.list",
    paginated=True,
    consequence="revision readiness could not be checked (run.revision_not_ready, traffic_misrouted)",
    field="revisions",
    route=Route("GET", f"{_LOCATION}/services/{{service}}/revisions"),
    fetch=lambda s, d: list_revisions(s.clients.run_revisions, s.project, s.region, d),
)
INVOKERS = Read(
    "invokers",
    IAM,
    "run.projects.locations.services.getIamPolicy",
    paginated=False,
    consequence="invoker IAM policies could not be read (run.invoker_denied)",
    field="invokers",
    route=Route("GET", f"{_LOCATION}/services/{{service}}:getIamPolicy"),
)
JOBS = Read(
    "jobs",
    RUN,
    "run.projects.locations.jobs.list",
    paginated=True,
    consequence="Cloud Run jobs could not be listed: which jobs route through a connector, how they ended",
    field="jobs",
    route=Route("GET", f"{_LOCATION}/jobs"),
    fetch=lambda s, d: list_jobs(s.clients.rest("run_v2", "JobsClient"), s.project, s.region, d),
)
READS = (SERVICES, REVISIONS, INVOKERS, JOBS)


def get_invokers(client: Any, service_resource: str, timeout: Timeout) -> InvokerEvidence:
    """Members bound to roles/run.invoker on one service (one getIamPolicy call)."""
    policy = client.get_iam_policy(request={"resource": service_resource}, timeout=timeout, retry=None)
    members: list[str] = []
    for binding in policy.bindings:
        if binding.role == INVOKER_ROLE:
            members.extend(m for m in binding.members if m not in members)
    return InvokerEvidence(service=service_resource.rsplit("/", 1)[-1], members=members)


def _short(name: str) -> str | None:
    return name.rsplit("/", 1)[-1] if name else None


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


def _raw(message: Any) -> Any:
    # proto-plus wraps every field read in marshalling (about a quarter of a millisecond per service here);
    # the protobuf message underneath reads the same fields directly.
    return type(message).pb(message)


def _enum_name(message: Any, field: str) -> str:
    value = getattr(message, field)
    return str(message.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[value].name)


def _health_paths(template: Any) -> list[str]:
    paths: list[str] = []
    for container in template.containers:
        for probe in (container.startup_probe, container.liveness_probe):
            if probe.HasField("http_get") and probe.http_get.path and probe.http_get.path not in paths:
                paths.append(probe.http_get.path)
    return paths


def condition_evidence(condition: Any) -> ConditionEvidence:
    """A v2 Condition (raw protobuf): its reason is whichever of reason, revisionReason, executionReason
    is set."""
    reason_field = condition.WhichOneof("reasons")
    return ConditionEvidence(
        type=condition.type_,
        state=_enum_name(condition, "state"),
        message=condition.message or None,
        reason=_enum_name(condition, reason_field) if reason_field else None,
    )


def _traffic(service: Any) -> list[TrafficTargetEvidence]:
    return [
        TrafficTargetEvidence(
            revision=_short(target.revision), latest=target.type_ == LATEST, percent=target.percent
        )
        for target in service.traffic
    ]


def _cloudsql_instances(template: Any) -> list[str]:
    found: list[str] = []
    for volume in template.volumes:
        if volume.HasField("cloud_sql_instance"):
            found.extend(i for i in volume.cloud_sql_instance.instances if i not in found)
    return found


def service_evidence(service: Any, project: str) -> ServiceEvidence:
    """One run_v2.Service as ServiceEvidence (names shortened, enums as their names). `conditions` holds the
    terminal condition first, then the others."""
    service = _raw(service)
    parts = service.name.split("/")
    region = parts[3]
    template = service.template
    vpc = template.vpc_access
    condition = service.terminal_condition
    ready = condition.state == SUCCEEDED if condition.type_ else True
    timeout = (
        template.timeout.ToTimedelta().total_seconds() if template.HasField("timeout") else DEFAULT_TIMEOUT_S
    )
    interface = vpc.network_interfaces[0] if vpc.network_interfaces else None
    conditions = [condition] if condition.type_ else []
    return ServiceEvidence(
        name=parts[-1],
        resource=service.name,
        region=region,
        uri=service.uri or None,
        ingress=_enum_name(service, "ingress"),
        connector=_connector_name(vpc.connector, project, region),
        egress=_enum_name(vpc, "egress") if vpc.connector or interface is not None else None,
        min_instances=template.scaling.min_instance_count,
        max_instances=template.scaling.max_instance_count or None,
        timeout_seconds=timeout,
        health_paths=_health_paths(template),
        ready=ready,
        ready_message=condition.message or None,
        latest_ready_revision=service.latest_ready_revision or None,
        latest_created_revision=service.latest_created_revision or None,
        conditions=[condition_evidence(c) for c in [*conditions, *service.conditions]],
        traffic=_traffic(service),
        direct_egress_network=_short(interface.network) if interface is not None else None,
        direct_egress_subnet=_short(interface.subnetwork) if interface is not None else None,
        cloudsql_instances=_cloudsql_instances(template),
    )


def revision_evidence(revision: Any) -> RevisionEvidence:
    """One run_v2.Revision: ready when its Ready condition succeeded (or, without one, none failed)."""
    revision = _raw(revision)
    parts = revision.name.split("/")
    ready_condition = next((c for c in revision.conditions if c.type_ == "Ready"), None)
    if ready_condition is not None:
        deciding = ready_condition
        ready = ready_condition.state == SUCCEEDED
    else:
        failed = [c for c in revision.conditions if c.state == FAILED]
        deciding = failed[0] if failed else None
        ready = not failed
    why = condition_evidence(deciding) if deciding is not None and not ready else None
    return RevisionEvidence(
        name=parts[-1],
        resource=revision.name,
        service=parts[5] if len(parts) > 5 else "",
        ready=ready,
        message=why.message if why else None,
        reason=why.reason if why else None,
    )


def list_jobs(client: Any, project: str, region: str, timeout: Timeout) -> list[JobEvidence]:
    """Every job in the region (one paginated list call,
    https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/list), as evidence."""
    pager = client.list_jobs(
        request={"parent": f"projects/{project}/locations/{region}", "page_size": PAGE_SIZE},
        timeout=timeout,
        retry=None,
    )
    return [job_evidence(job, project) for job in pager]


def job_evidence(job: Any, project: str) -> JobEvidence:
    """One run_v2.Job as JobEvidence: where its tasks send private traffic (template.template.vpcAccess: a
    connector, by its full name as for services, or Direct VPC egress), whether it is ready, and how its
    latest execution ended or stands (EXECUTION_FAILED, EXECUTION_RUNNING...; None when it never ran)."""
    job = _raw(job)
    parts = job.name.split("/")
    region = parts[3]
    task = job.template.template
    vpc = task.vpc_access
    interface = vpc.network_interfaces[0] if vpc.network_interfaces else None
    condition = job.terminal_condition
    ready = condition.state == SUCCEEDED if condition.type_ else True
    latest = job.latest_created_execution
    status = _enum_name(latest, "completion_status") if latest.name else None
    return JobEvidence(
        name=parts[-1],
        resource=job.name,
        region=region,
        connector=_connector_name(vpc.connector, project, region),
        egress=_enum_name(vpc, "egress") if vpc.connector or interface is not None else None,
        direct_egress_network=_short(interface.network) if interface is not None else None,
        direct_egress_subnet=_short(interface.subnetwork) if interface is not None else None,
        cloudsql_instances=_cloudsql_instances(task),
        ready=ready,
        ready_message=None if ready else condition.message or None,
        latest_execution=_short(latest.name),
        latest_execution_status=None if status == "COMPLETION_STATUS_UNSPECIFIED" else status,
    )
