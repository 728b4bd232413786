"""Google's error shapes, so clients see the twin fail exactly as they see GCP fail.

REST: https://cloud.google.com/apis/design/errors#http_mapping (error.code/message/status/details).
"""

from __future__ import annotations

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


def service_disabled_message(api: str, project_number: str) -> str:
    """The text Google sends when an API is not enabled on the consumer project."""
    service, title = API_SERVICES[api]
    return (
        f"{title} has not been used in project {project_number} before or it is disabled. "
        f"Enable it by visiting https://console.developers.google.com/apis/api/{service}/overview"
        f"?project={project_number} then retry. If you enabled this API recently, wait a few minutes "
        "for the action to propagate to our systems and retry."
    )


def error_info(
    api: str, reason: str, project_number: str, extra: dict[str, str] | None = None
) -> dict[str, Any]:
    """A google.rpc.ErrorInfo detail in its JSON form."""
    service, _ = API_SERVICES[api]
    metadata = {"service": service, "consumer": f"projects/{project_number}", **(extra or {})}
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": metadata,
    }


def rest_error(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a Google REST error for a google.rpc code name."""
    status = HTTP_STATUS.get(code, 500)
    body: dict[str, Any] = {"error": {"code": status, "message": message, "status": code}}
    if details:
        body["error"]["details"] = details
    return status, body


def fault_message(
    api: str, code: str, reason: str | None, project_number: str, method: str
) -> tuple[str, str]:
    """(message, ErrorInfo reason) that Google sends for an injected fault."""
    if reason == "SERVICE_DISABLED":
        return service_disabled_message(api, project_number), reason
    service, _ = API_SERVICES[api]
    messages = {
        "PERMISSION_DENIED": f"The caller does not have permission to call {method} on {service}.",
        "RESOURCE_EXHAUSTED": f"Quota exceeded for quota metric 'Read requests' of service '{service}'.",
        "UNAVAILABLE": "The service is currently unavailable.",
        "DEADLINE_EXCEEDED": "The request deadline was exceeded.",
        "NOT_FOUND": "Requested entity was not found.",
        "INTERNAL": "Internal error encountered.",
    }
    default_reason = {
        "PERMISSION_DENIED": "IAM_PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED": "RATE_LIMIT_EXCEEDED",
    }
    return messages.get(code, code), reason or default_reason.get(code, code)
