"""Outcome classes (docs/report-format.md) of probes that got no complete answer, with a precise detail."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from infradiag.evidence.model import Outcome
from infradiag.probe.text import duration, redact

_E = TypeVar("_E", bound=BaseException)


@dataclass
class Seen:
    """What the probe has received so far; survives the exception that ends a probe early."""

    url: str = ""  # the URL of the current hop
    status: int | None = None
    content_type: str = ""
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytearray = field(default_factory=bytearray)
    unfollowed: str = ""  # why a redirect was not followed


class WebSocketFailure(Exception):
    """The upgrade reached 101 but the WebSocket conversation went wrong (bad accept, closed, no reply)."""


def status_outcome(status: int, expected: int) -> Outcome:
    """The outcome of a complete answer judged by its status alone."""
    if status == expected:
        return "ok"
    if status >= 500:
        return "http_5xx"
    if status >= 400:
        return "http_4xx"
    return "assertion_failed"


def failure(
    exc: BaseException, url: str, pending: str | None, seen: Seen, elapsed_ms: float, budget_s: float
) -> tuple[Outcome, str]:
    """The outcome class and detail of a probe that ended in `exc` (a timeout or a transport error)."""
    elapsed = duration(elapsed_ms)
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timeout", f"timed out after {budget_s:.1f} s ({stall(pending, seen)})"
    if isinstance(exc, WebSocketFailure):
        return "assertion_failed", f"101 after {elapsed}, then {exc}"
    causes = _causes(exc)
    if gai := _first(causes, socket.gaierror):
        return "dns_error", f"DNS: {httpx.URL(url).host} does not resolve ({gai.strerror})"
    if cert := _first(causes, ssl.SSLCertVerificationError):
        return "tls_error", f"TLS: {certificate_problem(cert)}"
    if _first(causes, ConnectionRefusedError):
        return "connect_refused", f"connection refused after {elapsed}"
    if _first(causes, ConnectionResetError, ConnectionAbortedError, BrokenPipeError, ssl.SSLEOFError):
        return "connect_reset", f"connection reset after {elapsed}{_during_body(seen)}"
    if tls := _first(causes, ssl.SSLError):
        return "tls_error", f"TLS: {(tls.reason or str(tls)).lower().replace('_', ' ')}"
    # What remains has no outcome class of its own; the message says what it was (redacted: it may quote
    # the response).
    message = redact(str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.ConnectError):
        # An unreachable network or host, and anything else that prevents a connection.
        return "connect_refused", f"could not connect after {elapsed}: {message}"
    if isinstance(exc, httpx.RemoteProtocolError) and seen.status is None:
        return "connect_reset", f"connection closed without a valid response after {elapsed}: {message}"
    return "connect_reset", f"connection broke after {elapsed}{_during_body(seen)}: {message}"


def certificate_problem(exc: ssl.SSLCertVerificationError) -> str:
    """Why a certificate did not verify, in OpenSSL's words (`certificate has expired`)."""
    return str(exc.verify_message or exc.reason or exc)


def verification_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind `exc`, if that is what ended the probe."""
    return _first(_causes(exc), ssl.SSLCertVerificationError)


def stall(pending: str | None, seen: Seen) -> str:
    """Where a probe that timed out was stuck."""
    if pending == "dns":
        return "resolving the name"
    if pending == "connect":
        return "connecting"
    if pending == "tls":
        return "in the TLS handshake"
    if seen.status is None:
        return "no response headers"
    if seen.status == 101:
        return "101, no WebSocket reply"
    return f"status {seen.status}, body incomplete after {len(seen.body)} bytes"


def _during_body(seen: Seen) -> str:
    return f" while reading the body of a {seen.status}" if seen.status is not None else ""


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and contexts, and the members of any exception group among them."""
    found: list[BaseException] = []
    stack = [exc]
    while stack:
        current = stack.pop()
        if any(current is known for known in found):
            continue
        found.append(current)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(link for link in (current.__cause__, current.__context__) if link is not None)
    return found


def _first(causes: list[BaseException], *kinds: type[_E]) -> _E | None:
    return next((cause for cause in causes if isinstance(cause, kinds)), None)
