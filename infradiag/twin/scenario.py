"""Scenario files (../shared/spec/twin-scenario.md, v1): parsed, validated, errors with file and line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infradiag.errors import UsageError
from infradiag.yamlfile import load_yaml

Resource = dict[str, Any]
Priority = Literal["P0", "P1", "P2", "P3"]
RpcCode = Literal[
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "NOT_FOUND", "INTERNAL"
]
ApiName = Literal["run", "vpcaccess", "compute", "sql", "monitoring", "iam"]
Fault = Literal["reset", "hang", "refuse", "slow-body", "tls-expired", "tls-untrusted"]


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


class ApiFault(_Strict):
    api: ApiName
    method: str | None = None
    error: RpcCode | None = None
    # The ErrorInfo reason Google sends with the error, e.g. SERVICE_DISABLED for a disabled API.
    reason: str | None = None
    delayMs: int = Field(0, ge=0)
    times: int | None = Field(None, ge=1)


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


class RunSection(_Strict):
    services: list[Resource] = Field(default_factory=list)
    revisions: list[Resource] = Field(default_factory=list)


class VpcAccessSection(_Strict):
    connectors: list[Resource] = Field(default_factory=list)


class ComputeSection(_Strict):
    networks: list[Resource] = Field(default_factory=list)
    subnetworks: list[Resource] = Field(default_factory=list)
    firewalls: list[Resource] = Field(default_factory=list)
    routers: list[Resource] = Field(default_factory=list)
    backendServices: list[Resource] = Field(default_factory=list)
    healthChecks: list[Resource] = Field(default_factory=list)
    networkEndpointGroups: list[Resource] = Field(default_factory=list)
    urlMaps: list[Resource] = Field(default_factory=list)
    forwardingRules: list[Resource] = Field(default_factory=list)
    backendServiceHealth: dict[str, Resource] = Field(default_factory=dict)


class SqlSection(_Strict):
    instances: list[Resource] = Field(default_factory=list)


class MonitoringSection(_Strict):
    timeSeries: list[Resource] = Field(default_factory=list)
    alertPolicies: list[Resource] = Field(default_factory=list)


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
    expect: Expectation | None = None

    def service_short_names(self) -> list[str]:
        """Short names (last segment of `name`) of the scenario's Cloud Run services, in order."""
        return [str(s.get("name", "")).rsplit("/", 1)[-1] for s in self.run.services]


def _fix_for(error_type: str, loc: tuple[str | int, ...]) -> str:
    if error_type == "extra_forbidden":
        return f"remove `{loc[-1]}` or correct its spelling (see shared/spec/twin-scenario.md)"
    if error_type == "missing":
        return f"add `{loc[-1]}`"
    if error_type in ("literal_error", "enum"):
        return "use one of the allowed values"
    if error_type.startswith("datetime"):
        return "write an RFC 3339 instant such as 2026-09-15T23:06:52Z"
    return "see shared/spec/twin-scenario.md"


def load_scenario(path: Path) -> Scenario:
    """Parse and validate a scenario; any problem becomes a UsageError naming file, line and fix."""
    doc = load_yaml(path)
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
        raise UsageError(doc.where(loc), f"{place}: {first['msg']}", _fix_for(first["type"], loc)) from None
    for index, service in enumerate(scenario.run.services):
        if not str(service.get("name", "")).startswith(f"projects/{scenario.project}/locations/"):
            raise UsageError(
                doc.where(("run", "services", index)),
                "run.services[].name must be a full resource name",
                f"write projects/{scenario.project}/locations/REGION/services/NAME",
            )
    return scenario
