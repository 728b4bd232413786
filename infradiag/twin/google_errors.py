"""Google's REST error shapes, so clients see the twin fail exactly as they see GCP fail.

Two shapes exist behind googleapis.com:

- AIP-193 (Cloud Run v2, Serverless VPC Access v1): `{"error": {code, message, status, details}}`, details
  being google.rpc messages in JSON with an `@type`.
  https://cloud.google.com/apis/design/errors#http_mapping
- The legacy shape of the discovery-era APIs (Compute v1, Cloud SQL Admin): `{"error": {code, message,
  errors: [{message, domain, reason}]}}`, e.g. Compute's 404 `{"domain": "global", "reason": "notFound"}`
  (a captured body: https://github.com/googleapis/google-cloud-java/pull/11032) and Cloud SQL's
  `instanceDoesNotExist` (https://github.com/GoogleCloudPlatform/cloud-sql-proxy/issues/2244). Errors made
  by Google's API front end rather than by the service (API disabled, quota) carry both: the legacy
  `errors` entry (`accessNotConfigured` in domain `usageLimits`, as in "googleapi: Error 403: Compute
  Engine API has not been used in project ... accessNotConfigured",
  https://github.com/midl-dev/tezos-on-gke/issues/34) plus `status` and ErrorInfo `details`.

ErrorInfo reasons of domain googleapis.com (SERVICE_DISABLED, RATE_LIMIT_EXCEEDED) and their metadata keys
follow google/api/error_reason.proto.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infradiag.twin.faults import HTTP_STATUS

# The API behind each twin api name: its service name (ErrorInfo metadata) and display title.
API_SERVICES: dict[str, tuple[str, str]] = {
    "run": ("run.googleapis.com", "Cloud Run Admin API"),
    "vpcaccess": ("vpcaccess.googleapis.com", "Serverless VPC Access API"),
    "compute": ("compute.googleapis.com", "Compute Engine API"),
    "sql": ("sqladmin.googleapis.com", "Cloud SQL Admin API"),
    "monitoring": ("monitoring.googleapis.com", "Cloud Monitoring API"),
    "iam": ("run.googleapis.com", "Cloud Run Admin API"),
}
# APIs that answer in the legacy shape (with an `errors` list).
LEGACY_SHAPE_APIS = frozenset({"compute", "sql"})

# The legacy (domain, reason) Google pairs with each code when the service itself answers.
_LEGACY_REASONS: dict[str, tuple[str, str]] = {
    "INVALID_ARGUMENT": ("global", "invalid"),
    "PERMISSION_DENIED": ("global", "forbidden"),
    "NOT_FOUND": ("global", "notFound"),
    "RESOURCE_EXHAUSTED": ("usageLimits", "rateLimitExceeded"),
    "INTERNAL": ("global", "backendError"),
    "UNIMPLEMENTED": ("global", "notImplemented"),
    "UNAVAILABLE": ("global", "backendError"),
    "DEADLINE_EXCEEDED": ("global", "deadlineExceeded"),
}

_FAULT_MESSAGES = {
    "UNAVAILABLE": "The service is currently unavailable.",
    "DEADLINE_EXCEEDED": "The request deadline was exceeded.",
    "NOT_FOUND": "Requested entity was not found.",
    "INTERNAL": "Internal error encountered.",
}


@dataclass(eq=False)
class GoogleError(Exception):
    """One error answer, renderable in either REST shape.

    `legacy_reason`/`legacy_domain` override the default legacy pair for `code`; `extended_help` goes into
    the legacy entry; `front_end` marks errors made by Google's API front end, which carry `status` and
    `details` even in the legacy shape.
    """

    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)
    legacy_reason: str | None = None
    legacy_domain: str | None = None
    extended_help: str | None = None
    front_end: bool = False

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def http_status(self) -> int:
        """The HTTP status Google maps this code to."""
        return HTTP_STATUS.get(self.code, 500)

    def body(self, legacy: bool) -> dict[str, Any]:
        """The JSON error body in the AIP-193 shape, or the legacy shape when `legacy`."""
        error: dict[str, Any] = {"code": self.http_status(), "message": self.message}
        if legacy:
            domain, reason = _LEGACY_REASONS.get(self.code, ("global", "backendError"))
            entry = {
                "message": self.message,
                "domain": self.legacy_domain or domain,
                "reason": self.legacy_reason or reason,
            }
            if self.extended_help:
                entry["extendedHelp"] = self.extended_help
            error["errors"] = [entry]
        if not legacy or self.front_end:
            error["status"] = self.code
            if self.details:
                error["details"] = self.details
        return {"error": error}


def error_info(reason: str, domain: str, metadata: dict[str, str]) -> dict[str, Any]:
    """A google.rpc.ErrorInfo detail in its JSON form."""
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": domain,
        "metadata": metadata,
    }


def _help(description: str, url: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [{"description": description, "url": url}],
    }


def service_disabled(api: str, project_number: str) -> GoogleError:
    """What Google's front end answers when the API is not enabled on the consumer project."""
    service, title = API_SERVICES[api]
    url = f"https://console.developers.google.com/apis/api/{service}/overview?project={project_number}"
    message = (
        f"{title} has not been used in project {project_number} before or it is disabled. "
        f"Enable it by visiting {url} then retry. If you enabled this API recently, wait a few minutes "
        "for the action to propagate to our systems and retry."
    )
    metadata = {
        "service": service,
        "consumer": f"projects/{project_number}",
        "activationUrl": url,
        "serviceTitle": title,
        "containerInfo": project_number,
    }
    return GoogleError(
        "PERMISSION_DENIED",
        message,
        [
            error_info("SERVICE_DISABLED", "googleapis.com", metadata),
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            },
            _help("Google developers console API activation", url),
        ],
        legacy_reason="accessNotConfigured",
        legacy_domain="usageLimits",
        extended_help="https://console.developers.google.com",
        front_end=True,
    )


def quota_exceeded(api: str, project_number: str) -> GoogleError:
    """The front end's answer when the per-minute read quota is spent."""
    service, _ = API_SERVICES[api]
    message = (
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service "
        f"'{service}' for consumer 'project_number:{project_number}'."
    )
    metadata = {
        "service": service,
        "consumer": f"projects/{project_number}",
        "quota_metric": f"{service}/read_requests",
        "quota_limit": "ReadRequestsPerMinutePerProject",
        "quota_location": "global",
    }
    return GoogleError(
        "RESOURCE_EXHAUSTED",
        message,
        [
            error_info("RATE_LIMIT_EXCEEDED", "googleapis.com", metadata),
            _help(
                "Request a higher quota limit.", "https://cloud.google.com/docs/quotas/help/request_increase"
            ),
        ],
        front_end=True,
    )


def permission_denied(api: str, permission: str, resource: str) -> GoogleError:
    """The answer for a caller without `permission` on `resource`, in the words of each API."""
    if api == "compute":
        return GoogleError("PERMISSION_DENIED", f"Required '{permission}' permission for '{resource}'")
    if api == "sql":
        return GoogleError(
            "PERMISSION_DENIED",
            "The client is not authorized to make this request.",
            legacy_reason="notAuthorized",
        )
    return GoogleError(
        "PERMISSION_DENIED",
        f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).",
        [
            error_info(
                "IAM_PERMISSION_DENIED",
                "iam.googleapis.com",
                {"permission": permission, "resource": resource},
            )
        ],
    )


def fault_error(
    api: str, code: str, reason: str | None, project_number: str, permission: str, resource: str
) -> GoogleError:
    """The error an `apiFaults` entry injects, as Google sends that code for that API."""
    if reason == "SERVICE_DISABLED":
        return service_disabled(api, project_number)
    if code == "RESOURCE_EXHAUSTED" and reason in (None, "RATE_LIMIT_EXCEEDED"):
        return quota_exceeded(api, project_number)
    if code == "PERMISSION_DENIED" and reason in (None, "IAM_PERMISSION_DENIED"):
        return permission_denied(api, permission, resource)
    message = _FAULT_MESSAGES.get(code, code)
    if code == "PERMISSION_DENIED":
        message = f"The caller does not have permission to call {permission}."
    if code == "RESOURCE_EXHAUSTED":
        message = "Resource has been exhausted (e.g. check quota)."
    details = []
    if reason is not None:
        service, _ = API_SERVICES[api]
        metadata = {"service": service, "consumer": f"projects/{project_number}"}
        details.append(error_info(reason, "googleapis.com", metadata))
    return GoogleError(code, message, details, front_end=bool(details))
