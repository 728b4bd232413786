"""One probe of one target: a GET (or a WebSocket upgrade), classified into docs/report-format.md's outcomes.

Decisions a reader needs:

- A probe is one observation. No retries, and no keep-alive: every probe opens its own connection, so connect
  and TLS are measured every time and a stale pooled connection can never pass for a reset.
- The budget bounds the whole probe, from the connection attempt to the last body byte read; a body that
  trickles in (one byte a second) times out like a server that never answers.
- Redirects are followed up to `max_redirects`, and only within the same origin (scheme, host, port). A
  redirect elsewhere (typically a sign-in page) is reported, not followed, so a login page's 200 can never
  pass for a healthy service, and credentials never travel to another origin.
- `ok` means status == `expect_status` and every check passed. Any other status below 400 (200 when 204 was
  expected, a redirect not followed) is `assertion_failed`: the server answered without an error, but not as a
  healthy one does; so is an expected status whose body, headers or latency fail their checks.
- Phases come from httpcore's `trace` extension (see phases.py).
- Nothing from the request (headers, credentials) is ever copied into a result; bodies are redacted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from infradiag.evidence.model import Outcome, ProbeResult, ProbeTarget
from infradiag.probe.checks import Checks
from infradiag.probe.outcome import (
    Seen,
    WebSocketFailure,
    certificate_problem,
    failure,
    status_outcome,
    verification_error,
)
from infradiag.probe.phases import PhaseClock
from infradiag.probe.signatures import Signature, recognise
from infradiag.probe.text import duration, excerpt, json_object, redact, scrub
from infradiag.probe.tls import TlsEvidence, presented_certificate, tls_evidence
from infradiag.probe.websocket import converse, upgrade_headers

USER_AGENT = "infradiag-probe/0.1"
# Identity encoding: the body excerpt and the byte cap are about what the server sent.
REQUEST_HEADERS = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}


@dataclass(frozen=True)
class Limits:
    """Bounds of every probe in a run."""

    timeout_s: float
    max_body_bytes: int
    max_redirects: int
    verify_tls: bool  # whether the client checks certificates (else `tls_verified` stays None)


@dataclass(frozen=True)
class Attempt:
    """How this attempt runs: its time budget, and the credentials resolved for it."""

    budget_s: float
    cut_by_deadline: bool  # the budget is the time left before the overall deadline, not the timeout
    authorization: str | None = None
    auth_note: str | None = None  # why the probe goes without credentials it was meant to send

    def secrets(self) -> tuple[str, ...]:
        """The token this attempt sends, to be scrubbed from everything it records."""
        if self.authorization is None:
            return ()
        return (self.authorization.removeprefix("Bearer "),)


async def probe_once(
    transport: httpx.AsyncBaseTransport, target: ProbeTarget, checks: Checks, limits: Limits, attempt: Attempt
) -> ProbeResult:
    """One observation of `target` within `attempt.budget_s`; whatever happens becomes the result."""
    clock = PhaseClock()
    seen = Seen(url=target.url)
    error: Exception | None = None
    try:
        async with asyncio.timeout(attempt.budget_s):
            await _exchange(transport, target, attempt.authorization, clock, seen, limits)
    except (TimeoutError, httpx.TransportError, WebSocketFailure) as exc:
        error = exc
    # An answer's time is the service's up to its last byte; a failure's, until it was seen.
    total = clock.answered_ms() if error is None else clock.elapsed_ms()
    tls = await _tls(seen.url, clock, error, limits, attempt.budget_s - total / 1000)
    # A WebSocket reply is the application's message, not a page of Google's serving stack.
    answered_http = error is None and not (target.kind == "websocket" and seen.status == 101)
    signature = recognise(bytes(seen.body)) if answered_http else None
    failed: list[str] = []
    if error is not None:
        outcome, detail = failure(error, seen.url, clock.pending, seen, total, attempt.budget_s)
        if outcome == "timeout" and attempt.cut_by_deadline:
            detail = detail.replace("timed out after", "cut at the overall deadline after", 1)
    else:
        assert seen.status is not None  # an exchange that returns has received a response
        failed = checks.failures(seen.status, seen.headers, bytes(seen.body), total)
        outcome = _answer_outcome(seen.status, checks.expect_status, failed)
        detail = _answer_detail(seen, checks.expect_status, total, signature, failed, clock)
    if attempt.auth_note:
        detail += f" (sent without credentials: {attempt.auth_note})"
    secrets = attempt.secrets()
    return ProbeResult(
        service=target.service,
        path=target.path,
        url=target.url,
        ok=outcome == "ok",
        outcome=outcome,
        status=seen.status,
        latency_ms=round(total, 3),
        phases=clock.phases(total),
        detail=scrub(detail, secrets),
        body_excerpt=excerpt(bytes(seen.body), seen.content_type, secrets),
        body_json=json_object(bytes(seen.body), secrets) if error is None else None,
        served_by="gfe" if signature is not None and signature.gfe else None,
        kind=target.kind,
        failed_checks=[scrub(check, secrets) for check in failed],
        tls_not_after=tls.not_after,
        tls_expires_in_days=tls.expires_in_days,
        tls_verified=tls.verified,
        tls_error=tls.error,
    )


async def _exchange(
    transport: httpx.AsyncBaseTransport,
    target: ProbeTarget,
    authorization: str | None,
    clock: PhaseClock,
    seen: Seen,
    limits: Limits,
) -> None:
    headers = dict(REQUEST_HEADERS)
    key = None
    if target.kind == "websocket":
        websocket_headers, key = upgrade_headers()
        headers.update(websocket_headers)
    if authorization is not None:
        headers["Authorization"] = authorization
    url = httpx.URL(target.url)
    for redirects_left in range(limits.max_redirects, -1, -1):
        request = httpx.Request("GET", url, headers=headers, extensions={"trace": clock.event})
        seen.status = None
        seen.url = str(url)
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            seen.status = response.status_code
            seen.headers = response.headers
            seen.content_type = response.headers.get("content-type", "")
            if key is not None and response.status_code == 101:
                seen.body += await converse(response, key, target.message, limits.max_body_bytes, clock)
                return
            follow = _redirect_target(url, response)
            if follow is not None and redirects_left and _same_origin(url, follow):
                url = follow
                continue
            if follow is not None:
                seen.unfollowed = _unfollowed(follow, url, limits.max_redirects)
            await _read_body(response, seen.body, limits.max_body_bytes)
            return
        finally:
            await response.aclose()


def _redirect_target(current: httpx.URL, response: httpx.Response) -> httpx.URL | None:
    """Where a redirect points, or None if `response` is not one. Location may be relative (RFC 9110
    section 10.2.2); an unparsable one is a protocol error, as httpx's client treats it."""
    if not response.has_redirect_location:
        return None
    try:
        location = httpx.URL(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise httpx.RemoteProtocolError(f"invalid URL in the Location header: {exc}") from None
    if location.scheme and not location.host:  # "https:/path", seen in the wild (httpx issue 771)
        location = location.copy_with(host=current.host)
    return current.join(location) if location.is_relative_url else location


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _unfollowed(location: httpx.URL, current: httpx.URL, max_redirects: int) -> str:
    # Query strings of redirect targets often carry tokens or state: leave them out.
    shown = redact(str(location.copy_with(query=None, fragment=None)))
    if _same_origin(location, current):
        return f"redirect to {shown} not followed: more than {max_redirects} redirects"
    return f"redirect to another origin not followed: {shown}"


async def _read_body(response: httpx.Response, sink: bytearray, limit: int) -> None:
    async for chunk in response.aiter_raw():
        sink += chunk[: limit - len(sink)]
        if len(sink) >= limit:
            return


async def _tls(
    url: str, clock: PhaseClock, error: Exception | None, limits: Limits, time_left_s: float
) -> TlsEvidence:
    if not url.startswith("https:"):
        return TlsEvidence()
    if clock.peer_certificate is not None:
        return tls_evidence(clock.peer_certificate, verified=True if limits.verify_tls else None, error=None)
    cert_error = verification_error(error) if error is not None else None
    if cert_error is None:
        return TlsEvidence()  # no handshake completed (refused, reset, timed out): nothing to judge
    presented = await presented_certificate(url, time_left_s)
    return tls_evidence(presented, verified=False, error=certificate_problem(cert_error))


def _answer_outcome(status: int, expected: int, failed: list[str]) -> Outcome:
    if status != expected:
        return status_outcome(status, expected)
    return "assertion_failed" if failed else "ok"


def _answer_detail(
    seen: Seen,
    expected: int,
    elapsed_ms: float,
    signature: Signature | None,
    failed: list[str],
    clock: PhaseClock,
) -> str:
    status = seen.status
    text = f"{status} after {duration(elapsed_ms)}"
    if signature is not None:
        text += f" from {signature.source}: {signature.meaning}"
    if clock.round_trip_ms is not None:
        text += f", reply {duration(clock.round_trip_ms)} after the message"
    notes: list[str] = []
    if status != expected:
        # An error status speaks for itself against the usual 200; anything else is worth the comparison.
        if status is not None and (status < 400 or expected != 200):
            notes.append(f"expected {expected}")
    else:
        notes.extend(failed)
    if seen.unfollowed:
        notes.append(seen.unfollowed)
    return f"{text} ({'; '.join(notes)})" if notes else text
