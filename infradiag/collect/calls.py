"""How collectors call APIs: each call bounded by the time left before one deadline, transient errors
retried within it, and every failure (an error answer, a refused connection, a timeout, missing credentials)
turned into an unknown that says what to fix.

Deadlines: every generated client method takes `timeout=`. api_core turns a number into a
`TimeToDeadlineTimeout` anew on every method call (google/api_core/gapic_v1/method.py, `_prepare_call`), so
each page a pager fetches would get the whole number again; any other object is applied as a decorator to the
transport callable, which then receives `timeout=` in seconds: the requests timeout of a REST call (connect,
and each read: google/cloud/*/transports/rest.py `_get_response`) or the deadline of a gRPC call.
`CallDeadline` is such a decorator: every attempt and every page gets the time left until one instant.
"""

from __future__ import annotations

import functools
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exceptions

from infradiag.collect.api import APIS
from infradiag.evidence import Unknown

T = TypeVar("T")

# The APIs by the name unknowns give them (their `source`): each one's service name and viewer role.
_APIS = {api.name: api for api in APIS}
TRANSIENT = (gexc.TooManyRequests, gexc.ServiceUnavailable, gexc.ResourceExhausted)
# Backoff between retries of a transient error: full jitter, doubling from 0.2 s, at most 5 s per pause.
_BACKOFF_FIRST_S = 0.2
_BACKOFF_MAX_S = 5.0
# gRPC's text when no connection to the endpoint could be made (pick-first found no address that answered).
_GRPC_NO_CONNECTION = "failed to connect to all addresses"


class CallDeadline:
    """The `timeout=` of every client call of one read: each attempt, and each page of a list, gets the time
    left until `instant` (time.monotonic()), so the read as a whole ends by then."""

    def __init__(self, instant: float) -> None:
        self.instant = instant
        self.started = time.monotonic()

    def left(self) -> float:
        """Seconds until the instant; 0 or less once it has passed."""
        return self.instant - time.monotonic()

    def elapsed(self) -> float:
        """Seconds since this read started."""
        return time.monotonic() - self.started

    def __call__(self, func: Callable[..., T]) -> Callable[..., T]:
        """`func` (a transport callable taking `timeout=`) with the time left as its timeout; DeadlineExceeded
        without calling it once no time is left."""

        @functools.wraps(func)
        def bounded(*args: Any, **kwargs: Any) -> T:
            left = self.left()
            if left <= 0:
                raise gexc.DeadlineExceeded("the deadline passed before this call")  # type: ignore[no-untyped-call]
            kwargs["timeout"] = left
            return func(*args, **kwargs)

        return bounded


Timeout = float | CallDeadline  # what the collect functions pass as `timeout=`


@dataclass(frozen=True)
class ApiRead:
    """One read: the API it calls, what its failure leaves unchecked, and where the API is served."""

    source: str  # run | vpcaccess | compute | sql | monitoring | iam
    consequence: str
    project: str
    endpoint: str | None = None  # a configured endpoint (a twin's); None: Google's own


class ApiUnavailable(Exception):
    """An API call failed for good; carries the Unknown to report."""

    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.detail)
        self.unknown = unknown


def call_api(read: ApiRead, fn: Callable[[CallDeadline], T], deadline: CallDeadline) -> T:
    """fn(deadline), with transient errors (429, 503, quota) retried with backoff while the deadline leaves
    time for another attempt. Every failure raises ApiUnavailable with the fix: the role or API for an
    error answer, what to check for an endpoint that cannot be reached, a longer --deadline for a timeout."""
    attempt = 0
    while True:
        try:
            return fn(deadline)
        except TRANSIENT as exc:
            if _no_connection(exc):
                raise ApiUnavailable(unreachable(read, _grpc_cause(exc), exc.message or "")) from exc
            pause = random.uniform(0, min(_BACKOFF_MAX_S, _BACKOFF_FIRST_S * 2**attempt))
            if deadline.left() <= pause:
                raise ApiUnavailable(
                    unknown_from_error(read.source, read.consequence, read.project, exc)
                ) from exc
            time.sleep(pause)
            attempt += 1
        except gexc.DeadlineExceeded as exc:
            raise ApiUnavailable(timed_out(read, deadline.elapsed(), exc.message or "")) from exc
        except gexc.Unauthenticated as exc:
            if read.endpoint is not None:
                raise ApiUnavailable(unauthenticated(read, exc)) from exc
            raise ApiUnavailable(
                unknown_from_error(read.source, read.consequence, read.project, exc)
            ) from exc
        except gexc.GoogleAPICallError as exc:
            raise ApiUnavailable(
                unknown_from_error(read.source, read.consequence, read.project, exc)
            ) from exc
        except requests.Timeout as exc:
            raise ApiUnavailable(timed_out(read, deadline.elapsed(), str(exc))) from exc
        except (requests.ConnectionError, auth_exceptions.TransportError) as exc:
            raise ApiUnavailable(unreachable(read, _network_cause(exc), str(exc))) from exc
        except auth_exceptions.GoogleAuthError as exc:
            raise ApiUnavailable(unauthenticated(read, exc)) from exc
        except Exception as exc:
            # An answer the collector could not use (a bug, or an API change): the rest of the triage goes on.
            raise ApiUnavailable(unusable(read, exc)) from exc


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
    """The Unknown for an error answer: reason code and the exact fix."""
    code = _code(exc)
    service = _APIS[source].service
    if _disabled(exc):
        fix = f"enable the API: gcloud services enable {service} --project {project}"
        code = "SERVICE_DISABLED"
    elif code == "PERMISSION_DENIED":
        fix = f"grant {_APIS[source].role} on project {project} to the identity running infradiag"
    elif code == "RESOURCE_EXHAUSTED":
        fix = f"quota of {service} exhausted: retry later or raise the read quota"
    elif code == "UNAUTHENTICATED":
        fix = (
            f"{service} refused the credentials (expired, revoked or not a token it accepts): run "
            "`gcloud auth application-default login` again, or use a current service account key"
        )
    elif code == "DEADLINE_EXCEEDED":
        fix = _TIMED_OUT_FIX.format(service=service)
    elif code == "UNAVAILABLE":
        fix = f"{service} answered UNAVAILABLE until the deadline: retry later, and check the API's status"
    else:
        fix = f"{service} answered {code}: retry, and check the API's status"
    return Unknown(source=source, reason=code, fix=fix, consequence=consequence, detail=exc.message or "")


# The same text for every timed-out read of an API, so that merge_unknowns makes them one unknown.
_TIMED_OUT_FIX = (
    "{service} timed out: it did not answer before the deadline; run again with a longer --deadline, "
    "and if it persists check the API's status"
)


def timed_out(read: ApiRead, waited_s: float, detail: str = "") -> Unknown:
    """The Unknown for a read that got no answer before the deadline (or could not start before it)."""
    service = _APIS[read.source].service
    where = f" at {read.endpoint}" if read.endpoint else ""
    said = f"no answer from {service}{where} within {waited_s:.1f} s"
    return Unknown(
        source=read.source,
        reason="DEADLINE_EXCEEDED",
        fix=_TIMED_OUT_FIX.format(service=service),
        consequence=read.consequence,
        detail=f"{said}: {detail}" if detail else said,
    )


def not_started(read: ApiRead) -> Unknown:
    """The Unknown for a read the deadline left no time to start (it waited for others)."""
    unknown = timed_out(read, 0.0)
    service = _APIS[read.source].service
    return unknown.model_copy(update={"detail": f"{service} not called: the deadline had passed"})


def unreachable(read: ApiRead, why: str, detail: str = "") -> Unknown:
    """The Unknown for an API whose endpoint cannot be reached: where, why, and what to check."""
    service = _APIS[read.source].service
    if read.endpoint is None:
        where = f"https://{service}"
        check = "check DNS, proxy settings and firewall rules between this machine and Google's APIs"
    else:
        where = read.endpoint
        key = "monitoring_endpoint" if read.source == "monitoring" else "api_endpoint"
        check = (
            f"check that `{key}` in the config is the address of a running twin or API "
            "(`infradiag twin serve --format json` prints a twin's)"
        )
    return Unknown(
        source=read.source,
        reason="UNAVAILABLE",
        fix=f"cannot connect to {where}: {why}; {check}",
        consequence=read.consequence,
        detail=detail,
    )


def unauthenticated(read: ApiRead, exc: Exception) -> Unknown:
    """The Unknown for a call made without usable credentials."""
    fix = (
        "no usable Application Default Credentials: run `gcloud auth application-default login`, or "
        "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
    )
    if read.endpoint is not None:
        # Anonymous credentials cannot answer a twin that requires credentials.
        fix = (
            f"{read.endpoint} requires credentials: set `credentials` in the environment's config to the "
            "key file of that twin (`infradiag twin serve SCENARIO --key-file FILE` writes one)"
        )
    return Unknown(
        source=read.source,
        reason="UNAUTHENTICATED",
        fix=fix,
        consequence=read.consequence,
        detail=str(exc),
    )


def unusable(read: ApiRead, exc: Exception) -> Unknown:
    """The Unknown for an answer infradiag could not read."""
    service = _APIS[read.source].service
    return Unknown(
        source=read.source,
        reason="INTERNAL",
        fix=f"infradiag could not use the answer of {service}: report this as a bug, with the detail",
        consequence=read.consequence,
        detail=f"{type(exc).__name__}: {exc}",
    )


def _no_connection(exc: gexc.GoogleAPICallError) -> bool:
    return exc.grpc_status_code is not None and (exc.message or "").startswith(_GRPC_NO_CONNECTION)


def _grpc_cause(exc: gexc.GoogleAPICallError) -> str:
    # e.g. "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:9: Failed to connect
    # to remote host: Connection refused"
    message = exc.message or ""
    if "connection refused" in message.lower():
        return "connection refused"
    return message.rsplit(": ", 1)[-1] or "no connection"


def _network_cause(exc: BaseException) -> str:
    """What went wrong underneath a requests/urllib3 connection error, in a few words."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        error = stack.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, ConnectionResetError):
            return "connection reset"
        if isinstance(error, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(error, TimeoutError):
            return "timed out"
        # urllib3 keeps the underlying error in `reason` (MaxRetryError) and chains it.
        linked = (error.__cause__, error.__context__, getattr(error, "reason", None), *error.args)
        stack += [e for e in linked if isinstance(e, BaseException)]
    return "the connection failed"


def merge_unknowns(unknowns: list[Unknown]) -> list[Unknown]:
    """One Unknown per source, reason and fix (e.g. one for a Monitoring permission missing, however many
    queries it failed), its consequences joined. The answer is the same whatever order the reads failed in
    (they fail on threads of their own): sorted by source, reason, fix, then consequence and detail, the
    first detail kept. A report or a sweep's "what changed" must not change with a race."""
    merged: dict[tuple[str, str, str], Unknown] = {}
    for unknown in sorted(unknowns, key=_unknown_order):
        key = (unknown.source, unknown.reason, unknown.fix)
        first = merged.get(key)
        if first is None:
            merged[key] = unknown
        elif unknown.consequence not in first.consequence.split("; "):
            merged[key] = first.model_copy(
                update={"consequence": f"{first.consequence}; {unknown.consequence}"}
            )
    return list(merged.values())


def _unknown_order(unknown: Unknown) -> tuple[str, str, str, str, str]:
    return (unknown.source, unknown.reason, unknown.fix, unknown.consequence, unknown.detail)
