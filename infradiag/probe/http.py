"""HTTP probes of health endpoints: one GET per target, classified into triage-report.md's outcome classes.

Decisions a reader needs:

- A probe is one observation. No retries, and no keep-alive: every probe opens its own connection, so connect
  and TLS are measured every time and a stale pooled connection can never pass for a reset.
- `timeout_s` bounds the whole probe, from the connection attempt to the last body byte read; a body that
  trickles in (one byte a second) times out like a server that never answers.
- Redirects are followed up to `max_redirects`, and only within the same origin (scheme, host, port). A
  redirect elsewhere (typically a sign-in page) is reported, not followed, so a login page's 200 can never
  pass for a healthy service.
- `ok` means status == `expect_status`. Any other status below 400 (200 when 204 was expected, a redirect not
  followed) is `assertion_failed`: the server answered without an error, but not as a healthy one does.
- Phases are milliseconds spent in each phase, from httpcore's `trace` extension, summed over redirect hops.
  A phase that was attempted and failed (a refused connect, a rejected certificate) reports the time until it
  failed; `first_byte` (request sent to response headers received) only exists if headers arrived. httpcore
  resolves names inside its connect step, so `connect` includes name resolution; `dns` is set only when the
  resolution itself failed (then it is the time until it failed, and `connect` is None).
- Probes go direct: environment proxy settings are ignored, so a proxy's answer cannot hide the service's.
- Nothing from the request (headers, credentials) is ever copied into a result; bodies are redacted.
"""

from __future__ import annotations

import asyncio
import html
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from infradiag.evidence.model import Outcome, ProbePhases, ProbeResult, ProbeTarget

USER_AGENT = "infradiag-probe/0.1"
EXCERPT_CHARS = 200
_E = TypeVar("_E", bound=BaseException)

# httpcore trace events that open and close each timed phase.
_PHASE_STARTS = {
    "connection.connect_tcp.started": "connect",
    "connection.start_tls.started": "tls",
    "http11.send_request_headers.started": "first_byte",
}
_PHASE_ENDS = {
    "connection.connect_tcp.complete": "connect",
    "connection.connect_tcp.failed": "connect",
    "connection.start_tls.complete": "tls",
    "connection.start_tls.failed": "tls",
    "http11.receive_response_headers.complete": "first_byte",
}

# Order matters: an Authorization value is redacted whole before its Bearer token would be.
_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}"), "[redacted-jwt]"),
    (
        re.compile(
            r"(?i)((?:api[_-]?key|access[_-]?token|id[_-]?token|refresh[_-]?token|client[_-]?secret|password)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;&}]+"
        ),
        r"\1[redacted]",
    ),
)


@dataclass(frozen=True)
class _Signature:
    """A body Google's serving stack sends, and what it means (gcp-reference.md, "What probes see")."""

    pattern: re.Pattern[str]
    meaning: str
    gfe: bool


_SIGNATURES = (
    _Signature(
        re.compile(r"The service you requested is not available yet"), "no ready instance or revision", True
    ),
    _Signature(
        re.compile(r"Your client does not have permission to get URL"),
        "the caller may not invoke the service (invoker IAM)",
        True,
    ),
    _Signature(
        re.compile(r"The server encountered a temporary error"), "load balancer or backend failure", True
    ),
    _Signature(
        re.compile(r"The requested URL .{0,300}? was not found on this server", re.S),
        "not found: ingress blocks the caller, or the default URL is disabled",
        True,
    ),
    _Signature(
        re.compile(r"\A\s*Rate exceeded\.\s*\Z"),
        "no instance available (max instances reached)",
        False,
    ),
)
# GFE error pages: "<title>503 Server Error</title>" and "<title>Error 403 (Forbidden)!!1</title>".
_GFE_TITLE = re.compile(r"<title>\s*(?:\d{3} Server Error|Error \d{3} \([^)<]*\)!!1)\s*</title>", re.I)


@dataclass(frozen=True)
class _Limits:
    timeout_s: float
    max_body_bytes: int
    max_redirects: int


@dataclass
class _Seen:
    """What the probe has received so far; survives the exception that ends a probe early."""

    status: int | None = None
    content_type: str = ""
    body: bytearray = field(default_factory=bytearray)
    unfollowed: str = ""  # why a redirect was not followed


class _PhaseClock:
    """Turns httpcore trace events into milliseconds per phase."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._began: dict[str, float] = {}
        self.ms: dict[str, float] = {}
        # The phase in progress when the probe stopped, if it stopped inside one.
        self.pending: str | None = None

    async def event(self, name: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if name in _PHASE_STARTS:
            phase = _PHASE_STARTS[name]
            self._began[phase] = now
            self.pending = phase
        elif name in _PHASE_ENDS and _PHASE_ENDS[name] in self._began:
            phase = _PHASE_ENDS[name]
            self.ms[phase] = self.ms.get(phase, 0.0) + (now - self._began.pop(phase)) * 1000
            if name.endswith(".complete"):
                self.pending = None

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000


async def probe_all(
    targets: list[ProbeTarget],
    *,
    timeout_s: float = 10.0,
    concurrency: int = 32,
    verify: bool | ssl.SSLContext = True,
    max_body_bytes: int = 65536,
    max_redirects: int = 3,
) -> list[ProbeResult]:
    """One GET per target, at most `concurrency` at a time, each within `timeout_s`; results in target order.

    Whatever a probe sees (refusal, reset, timeout, TLS or DNS failure, any status) becomes its result; only
    an invalid argument (a target URL that is not absolute http(s)) raises, before anything is sent.
    """
    _check_arguments(targets, concurrency)
    limits = _Limits(timeout_s, max_body_bytes, max_redirects)
    gate = asyncio.Semaphore(concurrency)

    async with _client(verify, concurrency) as client:

        async def one(target: ProbeTarget) -> ProbeResult:
            async with gate:
                return await _probe(client, target, limits)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(target)) for target in targets]
    return [task.result() for task in tasks]


def _check_arguments(targets: list[ProbeTarget], concurrency: int) -> None:
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    for target in targets:
        url = httpx.URL(target.url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"probe target {target.service}: {target.url!r} is not an absolute http(s) URL")


def _client(verify: bool | ssl.SSLContext, concurrency: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=verify,
        # The probe's own deadline (asyncio.timeout) bounds everything; see the module docstring.
        timeout=None,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=0),
        headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"},
    )


async def _probe(client: httpx.AsyncClient, target: ProbeTarget, limits: _Limits) -> ProbeResult:
    clock = _PhaseClock()
    seen = _Seen()
    error: Exception | None = None
    try:
        async with asyncio.timeout(limits.timeout_s):
            await _exchange(client, target.url, clock, seen, limits)
    except (TimeoutError, httpx.TransportError) as exc:
        error = exc
    total = clock.elapsed_ms()
    signature = _recognise(bytes(seen.body)) if error is None else None
    if error is not None:
        outcome, detail = _failure(error, target.url, clock.pending, seen, total, limits.timeout_s)
    else:
        status = seen.status
        assert status is not None  # an exchange that returns has received a response
        outcome = _status_outcome(status, target.expect_status)
        detail = _answer_detail(status, target.expect_status, total, signature, seen.unfollowed)
    return ProbeResult(
        service=target.service,
        path=target.path,
        url=target.url,
        ok=outcome == "ok",
        outcome=outcome,
        status=seen.status,
        latency_ms=round(total, 3),
        phases=_phases(clock, total, dns_failed=outcome == "dns_error"),
        detail=detail,
        body_excerpt=excerpt(bytes(seen.body), seen.content_type),
        served_by="gfe" if signature is not None and signature.gfe else None,
    )


async def _exchange(
    client: httpx.AsyncClient, url: str, clock: _PhaseClock, seen: _Seen, limits: _Limits
) -> None:
    request = client.build_request("GET", url, extensions={"trace": clock.event})
    for redirects_left in range(limits.max_redirects, -1, -1):
        seen.status = None
        response = await client.send(request, stream=True)
        try:
            seen.status = response.status_code
            seen.content_type = response.headers.get("content-type", "")
            follow = response.next_request
            if follow is not None and redirects_left and _same_origin(request.url, follow.url):
                request = follow
                continue
            if follow is not None:
                seen.unfollowed = _unfollowed(follow.url, request.url, limits.max_redirects)
            await _read_body(response, seen.body, limits.max_body_bytes)
            return
        finally:
            await response.aclose()


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


def _status_outcome(status: int, expected: int) -> Outcome:
    if status == expected:
        return "ok"
    if status >= 500:
        return "http_5xx"
    if status >= 400:
        return "http_4xx"
    return "assertion_failed"


def _answer_detail(
    status: int, expected: int, elapsed_ms: float, signature: _Signature | None, unfollowed: str
) -> str:
    text = f"{status} after {_duration(elapsed_ms)}"
    if signature is not None:
        source = "the Google Front End" if signature.gfe else "Cloud Run"
        text += f" from {source}: {signature.meaning}"
    # An error status speaks for itself against the usual 200; anything else is worth the comparison.
    mention_expected = status != expected and (status < 400 or expected != 200)
    notes = [f"expected {expected}"] if mention_expected else []
    if unfollowed:
        notes.append(unfollowed)
    return f"{text} ({'; '.join(notes)})" if notes else text


def _failure(
    exc: Exception, url: str, pending: str | None, seen: _Seen, elapsed_ms: float, timeout_s: float
) -> tuple[Outcome, str]:
    elapsed = _duration(elapsed_ms)
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timeout", f"timed out after {timeout_s:.1f} s ({_stall(pending, seen)})"
    causes = _causes(exc)
    if gai := _first(causes, socket.gaierror):
        return "dns_error", f"DNS: {httpx.URL(url).host} does not resolve ({gai.strerror})"
    if cert := _first(causes, ssl.SSLCertVerificationError):
        return "tls_error", f"TLS: {cert.verify_message or cert.reason}"
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


def _stall(pending: str | None, seen: _Seen) -> str:
    if pending == "connect":
        return "connecting"
    if pending == "tls":
        return "in the TLS handshake"
    if seen.status is None:
        return "no response headers"
    return f"status {seen.status}, body incomplete after {len(seen.body)} bytes"


def _during_body(seen: _Seen) -> str:
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


def _phases(clock: _PhaseClock, total: float, *, dns_failed: bool) -> ProbePhases:
    ms = {phase: round(value, 3) for phase, value in clock.ms.items()}
    connect = ms.get("connect")
    return ProbePhases(
        dns=connect if dns_failed else None,
        connect=None if dns_failed else connect,
        tls=ms.get("tls"),
        first_byte=ms.get("first_byte"),
        total=round(total, 3),
    )


def _duration(ms: float) -> str:
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def _recognise(body: bytes) -> _Signature | None:
    # Google's serving stack answers with fixed pages: a GFE error page, or Cloud Run's `Rate exceeded.`.
    text = body.decode("utf-8", errors="replace")
    for signature in _SIGNATURES:
        if signature.pattern.search(text):
            return signature
    if _GFE_TITLE.search(text):
        return _Signature(_GFE_TITLE, "an error page of Google's serving infrastructure", True)
    return None


def redact(text: str) -> str:
    """`text` with bearer tokens, JWT-looking strings, Authorization values and credential fields masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def excerpt(body: bytes, content_type: str = "") -> str | None:
    """At most 200 characters of the body as readable text: HTML reduced to its text, secrets redacted,
    whitespace collapsed; None for an empty body."""
    text = body.decode("utf-8", errors="replace")
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        text = _html_text(text)
    # Redact before cutting, so that no secret is shortened past recognition.
    text = " ".join(redact(text).split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1] + "…"
    return text or None


def _html_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", markup)
    return html.unescape(re.sub(r"<[^>]*>", " ", markup))
