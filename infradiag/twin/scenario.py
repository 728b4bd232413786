"""Scenario files (docs/scenario-format.md, v1): parsed, validated, errors with file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from infradiag.errors import UsageError
from infradiag.priority import Priority
from infradiag.yamlfile import YamlDocument, load_yaml, without_cycle_collection

Resource = dict[str, Any]
RpcCode = Literal[
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "NOT_FOUND", "INTERNAL"
]
ApiName = Literal["run", "vpcaccess", "compute", "sql", "monitoring", "iam"]
Fault = Literal["reset", "hang", "refuse", "slow-body", "tls-expired", "tls-expiring", "tls-untrusted"]
# Twin-only: the days a `tls-expiring` certificate has left when none are given.
DEFAULT_EXPIRES_IN_DAYS = 7.0
# A public CA issues nothing valid for longer (398 days); anything above is a typo, not a scenario.
MAX_EXPIRES_IN_DAYS = 398.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Open(BaseModel):
    # Unknown fields inside Google resources are kept and ignored, as Google's clients do.
    model_config = ConfigDict(extra="allow")


class EndpointBehaviour(_Strict):
    status: int = Field(200, ge=100, le=599)
    body: str | None = None
    json_body: Any = Field(None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)
    delayMs: int = Field(0, ge=0)
    fault: Fault | None = None
    # Twin-only (added in v1): with `tls-expiring`, the days until the served certificate's notAfter.
    expiresInDays: float | None = Field(None, gt=0, le=MAX_EXPIRES_IN_DAYS)

    @field_validator("expiresInDays")
    @classmethod
    def _only_with_tls_expiring(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("fault") != "tls-expiring":
            raise ValueError("expiresInDays is given without fault: tls-expiring")
        return value


class ApiFault(_Strict):
    api: ApiName
    method: str | None = None
    error: RpcCode | None = None
    # The ErrorInfo reason Google sends with the error, e.g. SERVICE_DISABLED for a disabled API.
    reason: str | None = None
    delayMs: int = Field(0, ge=0)
    times: int | None = Field(None, ge=1)


class TwinSettings(_Strict):
    """Twin-only: how the twin itself behaves (docs/scenario-format.md, "Twin settings")."""

    # Every REST and gRPC call must carry a bearer token the twin issued (UNAUTHENTICATED otherwise), and
    # the endpoints of private services an ID token the twin signed for their URL.
    requireCredentials: bool = False
    # The service accounts the twin's key may impersonate (IAM Credentials generateAccessToken and
    # generateIdToken); any other answers PERMISSION_DENIED.
    serviceAccounts: list[str] = Field(default_factory=list)
    tokenLifetimeSeconds: int = Field(3600, ge=1, le=43200)


class ExpectedCause(_Strict):
    cause: str
    priority: Priority | None = None
    resource: str | None = None


class Expectation(_Strict):
    verdict: Literal["healthy", "degraded", "down", "unknown"] | None = None
    causes: list[ExpectedCause] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list)
    noneAtOrAbove: Priority | None = None
    unknowns: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Google:
    """Marks a scenario collection of Google resources, declared once here: the message of the official client
    library each resource is checked against (twin/resource_check.py), and, for resources known by their full
    resource name, that name's form: `{project}` is the scenario's project id or number, every capitalised
    word one path segment."""

    module: str
    message: str
    name: str | None = None


_RUN = "google.cloud.run_v2.types"
_COMPUTE = "google.cloud.compute_v1.types"
_MONITORING = "google.cloud.monitoring_v3.types"
_LOCATION = "projects/{project}/locations/REGION"


class RunSection(_Strict):
    services: Annotated[list[Resource], Google(_RUN, "Service", f"{_LOCATION}/services/NAME")] = Field(
        default_factory=list
    )
    revisions: Annotated[
        list[Resource], Google(_RUN, "Revision", f"{_LOCATION}/services/SERVICE/revisions/NAME")
    ] = Field(default_factory=list)
    jobs: Annotated[list[Resource], Google(_RUN, "Job", f"{_LOCATION}/jobs/NAME")] = Field(
        default_factory=list
    )


class VpcAccessSection(_Strict):
    connectors: Annotated[
        list[Resource], Google("google.cloud.vpcaccess_v1.types", "Connector", f"{_LOCATION}/connectors/NAME")
    ] = Field(default_factory=list)


class RouterStatusEntry(_Strict):
    """Twin-only: what routers.getRouterStatus answers for one router of compute.routers. Google computes a
    router's status, nobody writes it, so the scenario says it: `result` is the RouterStatus exactly as the
    REST API returns it inside RouterStatusResponse
    (https://cloud.google.com/compute/docs/reference/rest/v1/routers/getRouterStatus)."""

    router: str  # the router's name
    region: str  # its region: a name or a URL
    result: Resource


class ComputeSection(_Strict):
    networks: Annotated[list[Resource], Google(_COMPUTE, "Network")] = Field(default_factory=list)
    subnetworks: Annotated[list[Resource], Google(_COMPUTE, "Subnetwork")] = Field(default_factory=list)
    firewalls: Annotated[list[Resource], Google(_COMPUTE, "Firewall")] = Field(default_factory=list)
    routers: Annotated[list[Resource], Google(_COMPUTE, "Router")] = Field(default_factory=list)
    backendServices: Annotated[list[Resource], Google(_COMPUTE, "BackendService")] = Field(
        default_factory=list
    )
    healthChecks: Annotated[list[Resource], Google(_COMPUTE, "HealthCheck")] = Field(default_factory=list)
    networkEndpointGroups: Annotated[list[Resource], Google(_COMPUTE, "NetworkEndpointGroup")] = Field(
        default_factory=list
    )
    urlMaps: Annotated[list[Resource], Google(_COMPUTE, "UrlMap")] = Field(default_factory=list)
    forwardingRules: Annotated[list[Resource], Google(_COMPUTE, "ForwardingRule")] = Field(
        default_factory=list
    )
    instanceGroups: Annotated[list[Resource], Google(_COMPUTE, "InstanceGroup")] = Field(default_factory=list)
    instances: Annotated[list[Resource], Google(_COMPUTE, "Instance")] = Field(default_factory=list)
    # Network firewall policies (FirewallPolicy, with their `associations`): global, and regional ones
    # (each with its `region`).
    networkFirewallPolicies: Annotated[list[Resource], Google(_COMPUTE, "FirewallPolicy")] = Field(
        default_factory=list
    )
    regionNetworkFirewallPolicies: Annotated[list[Resource], Google(_COMPUTE, "FirewallPolicy")] = Field(
        default_factory=list
    )
    # Twin-only: the hierarchical firewall policies of the project's organization and folders, each a
    # FirewallPolicy as Google writes it, listed in ancestry order (the organization's first).
    hierarchicalFirewallPolicies: Annotated[list[Resource], Google(_COMPUTE, "FirewallPolicy")] = Field(
        default_factory=list
    )
    backendServiceHealth: dict[str, Resource] = Field(default_factory=dict)
    # Twin-only wrapper around Google-shaped RouterStatus results, one per router at most.
    routerStatus: list[RouterStatusEntry] = Field(default_factory=list)


class SqlSection(_Strict):
    instances: Annotated[list[Resource], Google("google.cloud.sqladmin_v1.types", "DatabaseInstance")] = (
        Field(default_factory=list)
    )


class MonitoringSection(_Strict):
    timeSeries: Annotated[list[Resource], Google(_MONITORING, "TimeSeries")] = Field(default_factory=list)
    alertPolicies: Annotated[list[Resource], Google(_MONITORING, "AlertPolicy")] = Field(default_factory=list)


class Scenario(_Strict):
    apiVersion: Literal["infradiag/twin-v1"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    summary: str | None = None
    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    projectNumber: str | None = Field(None, pattern=r"^[0-9]+$")
    region: str
    now: datetime
    run: RunSection = Field(default_factory=RunSection)
    vpcaccess: VpcAccessSection = Field(default_factory=VpcAccessSection)
    compute: ComputeSection = Field(default_factory=ComputeSection)
    sql: SqlSection = Field(default_factory=SqlSection)
    monitoring: MonitoringSection = Field(default_factory=MonitoringSection)
    iam: dict[str, Resource] = Field(default_factory=dict)
    endpoints: dict[str, dict[str, EndpointBehaviour]] = Field(default_factory=dict)
    apiFaults: list[ApiFault] = Field(default_factory=list)
    twin: TwinSettings = Field(default_factory=TwinSettings)
    expect: Expectation | None = None

    @field_validator("now", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        # pydantic alone would take a bare date, an epoch number or an instant without offset.
        if isinstance(value, datetime):
            return value
        from infradiag.twin.resource_check import parse_timestamp

        instant = parse_timestamp(value)
        if instant is None:
            raise ValueError(f"{value!r} is not an RFC 3339 instant with an offset")
        return instant

    def service_short_names(self) -> list[str]:
        """Short names (last segment of `name`) of the scenario's Cloud Run services, in order."""
        return [str(s.get("name", "")).rsplit("/", 1)[-1] for s in self.run.services]

    def served_short_names(self) -> list[str]:
        """Short names of the services that have a `uri`, in order: the ones whose endpoints the twin serves
        (a service without one is served nowhere, as on Cloud Run)."""
        return [str(s.get("name", "")).rsplit("/", 1)[-1] for s in self.run.services if s.get("uri")]

    def private_short_names(self) -> list[str]:
        """Short names of the services Cloud Run serves only to callers with an ID token: those whose IAM
        policy (in `iam`) grants roles/run.invoker to no `allUsers`, unless `invokerIamDisabled`."""
        private = []
        for service in self.run.services:
            name = str(service.get("name", ""))
            bindings = (self.iam.get(name) or {}).get("bindings") or []
            public = service.get("invokerIamDisabled") is True or any(
                b.get("role") == "roles/run.invoker" and "allUsers" in (b.get("members") or [])
                for b in bindings
                if isinstance(b, dict)
            )
            if not public:
                private.append(name.rsplit("/", 1)[-1])
        return private


def _fix_for(error: Any, loc: tuple[str | int, ...]) -> str:
    error_type = str(error["type"])
    if loc and loc[-1] == "expiresInDays":
        if error_type == "value_error":
            return "write `fault: tls-expiring` on this path, or remove `expiresInDays`"
        return (
            f"write a number of days greater than 0 and at most {MAX_EXPIRES_IN_DAYS:g}, "
            "next to `fault: tls-expiring`"
        )
    if error_type == "extra_forbidden":
        return f"remove `{loc[-1]}` or correct its spelling (see docs/scenario-format.md)"
    if error_type == "missing":
        return f"add `{loc[-1]}`"
    if error_type in ("literal_error", "enum"):
        expected = str((error.get("ctx") or {}).get("expected", "")).replace("'", "")
        return f"write one of {expected}" if expected else "use one of the allowed values"
    if error_type.startswith("datetime") or loc == ("now",):
        return "write an RFC 3339 instant such as 2026-09-15T23:06:52Z"
    if error_type == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        return f"write a value matching {pattern}"
    return "see docs/scenario-format.md"


# The RPCs of the twin's Monitoring gRPC server (monitoring.py), for `apiFaults.method`.
MONITORING_METHODS = (
    "ListTimeSeries",
    "ListAlertPolicies",
    "GetAlertPolicy",
    "CreateAlertPolicy",
    "UpdateAlertPolicy",
    "DeleteAlertPolicy",
    "CreateTimeSeries",
    "CreateServiceTimeSeries",
    "ListMetricDescriptors",
    "GetMetricDescriptor",
    "CreateMetricDescriptor",
    "DeleteMetricDescriptor",
    "ListMonitoredResourceDescriptors",
    "GetMonitoredResourceDescriptor",
)


def _method_known(api: str, method: str, rest_methods: dict[str, list[str]]) -> bool:
    if api == "monitoring":
        return method in MONITORING_METHODS
    return any(
        re.fullmatch(re.escape(name).replace(r"\{verb\}", "[A-Za-z]+"), method) for name in rest_methods[api]
    )


def _check_faults(scenario: Scenario, doc: YamlDocument) -> None:
    rest_methods: dict[str, list[str]] | None = None
    for index, fault in enumerate(scenario.apiFaults):
        loc = ("apiFaults", index)
        if fault.error is None and not fault.delayMs:
            raise UsageError(
                doc.where(loc),
                "an API fault with neither error nor delayMs does nothing",
                "add error or delayMs",
            )
        if fault.reason is not None and fault.error is None:
            raise UsageError(
                doc.where((*loc, "reason")), "a reason needs an error", "add error, e.g. PERMISSION_DENIED"
            )
        if fault.method is None:
            continue
        if rest_methods is None:
            from infradiag.twin.rest import method_names

            rest_methods = method_names()
        if not _method_known(fault.api, fault.method, rest_methods):
            names = MONITORING_METHODS if fault.api == "monitoring" else rest_methods[fault.api]
            shown = ", ".join(n.replace("{verb}", "VERB") for n in dict.fromkeys(names))
            raise UsageError(
                doc.where((*loc, "method")),
                f"api {fault.api} has no method {fault.method!r}",
                f"write one of {shown}",
            )


def _check_endpoints(scenario: Scenario, doc: YamlDocument) -> None:
    services = scenario.service_short_names()
    known = set(services)  # a list lookup per endpoint made large fleets quadratic
    served = set(scenario.served_short_names())
    for service, paths in scenario.endpoints.items():
        if service not in known:
            shown = ", ".join(services[:10]) + (
                f", ... ({len(services)} in all)" if len(services) > 10 else ""
            )
            raise UsageError(
                doc.where(("endpoints", service)),
                f"endpoints.{service}: no Cloud Run service is named {service!r}",
                "key endpoints by a service's short name: " + (shown or "(add run.services first)"),
            )
        if service not in served:
            # Nothing would ever reach them: the twin serves endpoints only where the service has a uri.
            raise UsageError(
                doc.where(("endpoints", service)),
                f"endpoints.{service}: service {service!r} has no uri, so nothing serves these endpoints",
                f"remove endpoints.{service}, or give the service a uri",
            )
        for path in paths:
            if path != "*" and not path.startswith("/"):
                raise UsageError(
                    doc.where(("endpoints", service, path)),
                    f"endpoints.{service}: {path!r} is not a URL path",
                    'write a path starting with "/", or "*" for every other path',
                )


def load_scenario(path: Path) -> Scenario:
    """Parse and validate a scenario; any problem becomes a UsageError naming file, line and fix."""
    with without_cycle_collection():
        return _load_scenario(path)


def _load_scenario(path: Path) -> Scenario:
    doc = load_yaml(path, "scenario")
    if not isinstance(doc.data, dict):
        raise UsageError(
            f"{path}:1", "a scenario is a YAML mapping", "start from scenarios/staging-healthy.yaml"
        )
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        place = ".".join(str(part) for part in loc) or "(top level)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UsageError(doc.where(loc), f"{place}: {message}", _fix_for(first, loc)) from None
    _check_faults(scenario, doc)
    _check_endpoints(scenario, doc)
    from infradiag.twin.resource_check import ResourceProblem, check_resources

    try:
        check_resources(doc.data, scenario.project, scenario.projectNumber, scenario.now)
    except ResourceProblem as problem:
        place = ".".join(str(part) for part in problem.loc)
        raise UsageError(doc.where(problem.loc), f"{place}: {problem.problem}", problem.fix) from None
    return scenario
