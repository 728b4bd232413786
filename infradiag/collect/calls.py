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


def unknown_from_error(source: str, consequence: str, project: str, exc: gexc.GoogleAPICallError) -> Unknown:
    """The Unknown for a failed call: reason code and the exact fix."""
    code = exc.grpc_status_code.name if exc.grpc_status_code is not None else type(exc).__name__
    reason = getattr(exc, "reason", None)
    if reason == "SERVICE_DISABLED":
        service = SERVICE_NAMES[source]
        fix = f"enable the API: gcloud services enable {service} --project {project}"
        code = "SERVICE_DISABLED"
    elif isinstance(exc, gexc.PermissionDenied):
        fix = f"grant {VIEWER_ROLES[source]} on project {project} to the identity running infradiag"
    elif isinstance(exc, gexc.ResourceExhausted | gexc.TooManyRequests):
        fix = f"quota of {SERVICE_NAMES[source]} exhausted: retry later or raise the read quota"
    elif isinstance(exc, gexc.DeadlineExceeded | gexc.ServiceUnavailable):
        fix = f"{SERVICE_NAMES[source]} did not answer in time: retry"
    else:
        fix = f"{SERVICE_NAMES[source]} answered {code}: retry, and check the API's status"
    return Unknown(source=source, reason=code, fix=fix, consequence=consequence, detail=exc.message or "")
