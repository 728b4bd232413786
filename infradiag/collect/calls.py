"""How collectors call APIs: bounded retries of transient errors, and failures turned into unknowns."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from google.api_core import exceptions as gexc
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_random_exponential

from infradiag.evidence import Unknown

T = TypeVar("T")

# Read-only roles that cover each API's list/get calls.
# https://cloud.google.com/iam/docs/understanding-roles
VIEWER_ROLES = {
    "run": "roles/run.viewer",
    "vpcaccess": "roles/vpcaccess.viewer",
    "compute": "roles/compute.networkViewer",
    "sql": "roles/cloudsql.viewer",
    "monitoring": "roles/monitoring.viewer",
    "iam": "roles/run.viewer",
}
SERVICE_NAMES = {
    "run": "run.googleapis.com",
    "vpcaccess": "vpcaccess.googleapis.com",
    "compute": "compute.googleapis.com",
    "sql": "sqladmin.googleapis.com",
    "monitoring": "monitoring.googleapis.com",
    "iam": "run.googleapis.com",
}
TRANSIENT = (gexc.TooManyRequests, gexc.ServiceUnavailable, gexc.ResourceExhausted)


class ApiUnavailable(Exception):
    """An API call failed for good; carries the Unknown to report."""

    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.detail)
        self.unknown = unknown


def call_api(source: str, consequence: str, project: str, fn: Callable[[], T], deadline_s: float = 30.0) -> T:
    """fn() with transient errors retried (exponential backoff, jitter) until deadline_s; other
    API errors raise ApiUnavailable with the fix (role or API to enable)."""
    retrying = retry(
        retry=retry_if_exception_type(TRANSIENT),
        wait=wait_random_exponential(multiplier=0.2, max=5),
        stop=stop_after_delay(deadline_s),
        reraise=True,
    )
    try:
        return retrying(fn)()
    except gexc.GoogleAPICallError as exc:
        raise ApiUnavailable(unknown_from_error(source, consequence, project, exc)) from exc


# HTTP status -> google.rpc code, for REST errors in the legacy shape (Compute, Cloud SQL), which carry no
# `status`: https://cloud.google.com/apis/design/errors#http_mapping
_CODES_BY_HTTP_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# The legacy `errors[].reason` of a disabled API (domain usageLimits), for when no ErrorInfo is sent.
_LEGACY_DISABLED = "accessNotConfigured"


def _code(exc: gexc.GoogleAPICallError) -> str:
    if exc.grpc_status_code is not None:
        return str(exc.grpc_status_code.name)
    return _CODES_BY_HTTP_STATUS.get(exc.code or 0, type(exc).__name__)


def _disabled(exc: gexc.GoogleAPICallError) -> bool:
    if getattr(exc, "reason", None) == "SERVICE_DISABLED":
        return True
    return any(isinstance(e, dict) and e.get("reason") == _LEGACY_DISABLED for e in exc.errors or ())


def unknown_from_error(source: str, consequence: str, project: str, exc: gexc.GoogleAPICallError) -> Unknown:
    """The Unknown for a failed call: reason code and the exact fix."""
    code = _code(exc)
    if _disabled(exc):
        service = SERVICE_NAMES[source]
        fix = f"enable the API: gcloud services enable {service} --project {project}"
        code = "SERVICE_DISABLED"
    elif code == "PERMISSION_DENIED":
        fix = f"grant {VIEWER_ROLES[source]} on project {project} to the identity running infradiag"
    elif code == "RESOURCE_EXHAUSTED":
        fix = f"quota of {SERVICE_NAMES[source]} exhausted: retry later or raise the read quota"
    elif code in ("DEADLINE_EXCEEDED", "UNAVAILABLE"):
        fix = f"{SERVICE_NAMES[source]} did not answer in time: retry"
    else:
        fix = f"{SERVICE_NAMES[source]} answered {code}: retry, and check the API's status"
    return Unknown(source=source, reason=code, fix=fix, consequence=consequence, detail=exc.message or "")


def merge_unknowns(unknowns: list[Unknown]) -> list[Unknown]:
    """One Unknown per source, reason and fix (e.g. one for a Monitoring permission missing, however many
    queries it failed), its consequences joined in order."""
    merged: dict[tuple[str, str, str], Unknown] = {}
    for unknown in unknowns:
        key = (unknown.source, unknown.reason, unknown.fix)
        first = merged.get(key)
        if first is None:
            merged[key] = unknown
        elif unknown.consequence not in first.consequence.split("; "):
            merged[key] = first.model_copy(
                update={"consequence": f"{first.consequence}; {unknown.consequence}"}
            )
    return list(merged.values())
