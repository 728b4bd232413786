"""Per-phase timings from the `trace` extension, and the server certificate seen on the way.

The probes' transport (network.py) reports name resolution, connect and TLS as connection steps, and httpcore
reports the HTTP exchange. Each phase is the service's time (and the network's), not ours: one event loop runs
a whole fleet's probes, and the instant at which it *notices* a step end is late by whatever work was queued
before it (issue 16). So each phase is taken from the kernel where the loop's view is late:

- `dns`: the resolver's call, as the loop saw it (None for an IP literal: nothing to resolve).
- `connect`: the TCP handshake's round trip as the kernel measured it (tcpi_rtt right after connect: the
  SYN / SYN-ACK sample, in microseconds), unless a SYN was retransmitted or no sample exists; then, and
  where TCP_INFO does not exist (not Linux), the connect as the loop saw it.
- `tls`: the server's part of the handshake: from each flight we send to the arrival of the answer that let
  it go on (network.TlsStream), the ClientHello's included; our work between flights is not counted.
- `first_byte`: from the instant the request's first bytes were handed to the kernel to the arrival of the
  bytes that completed the response headers (the last arrival the engine had seen when it parsed them).

Arrivals are the kernel's (tcpi_last_data_recv, in jiffies: within one jiffy, 4 ms at HZ=250, never before
our send) where it can be read, else when the loop's I/O callback handed the bytes over
(network.ArrivalReader). The `total` of an answered probe is the sum of its phases plus the body's time (from
the headers' arrival to the last bytes'), so phases add up to it and the loop's delays between steps are
not in it; a failure's total is the time until it was seen, as the loop saw it. A phase that was attempted
and failed reports the time until it failed. Phases are summed over redirect hops.
"""

from __future__ import annotations

import time
from typing import Any

from infradiag.evidence.model import ProbePhases
from infradiag.probe.kernel import handshake_s

# httpcore trace events that open and close each timed phase.
_STARTS = {
    "connection.resolve.started": "dns",
    "connection.connect_tcp.started": "connect",
    "connection.start_tls.started": "tls",
    "http11.send_request_headers.started": "first_byte",
}
_ENDS = {
    "connection.resolve.complete": "dns",
    "connection.resolve.failed": "dns",
    "connection.connect_tcp.complete": "connect",
    "connection.connect_tcp.failed": "connect",
    "connection.start_tls.complete": "tls",
    "connection.start_tls.failed": "tls",
    "http11.receive_response_headers.complete": "first_byte",
}


class PhaseClock:
    """Turns httpcore trace events into milliseconds per phase; keeps the peer certificate of a TLS hop."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._began: dict[str, float] = {}
        self.ms: dict[str, float] = {}
        # The phase in progress when the probe stopped, if it stopped inside one.
        self.pending: str | None = None
        # DER of the server certificate of the last completed TLS handshake (verified by then).
        self.peer_certificate: bytes | None = None
        self.round_trip_ms: float | None = None
        self._stream: Any = None  # the TCP connection of the current hop (network.AsyncioStream)
        self._headers_at: float | None = None  # when the current hop's response headers arrived

    async def event(self, name: str, info: dict[str, Any]) -> None:
        """The `trace` callback httpcore calls at each step."""
        now = time.perf_counter()
        if name == "connection.connect_tcp.complete":
            self._stream = info.get("return_value")
            self._headers_at = None
        if name in _STARTS:
            phase = _STARTS[name]
            self._began[phase] = now
            self.pending = phase
        elif name in _ENDS and _ENDS[name] in self._began:
            phase = _ENDS[name]
            seconds = self._seconds(name, info, self._began.pop(phase), now)
            self.ms[phase] = self.ms.get(phase, 0.0) + seconds * 1000
            if name.endswith(".complete"):
                self.pending = None
        if name == "connection.start_tls.complete":
            self.peer_certificate = _peer_certificate(info.get("return_value"))

    def _seconds(self, name: str, info: dict[str, Any], began: float, now: float) -> float:
        """The duration of the phase `name` ends, the service's (module docstring); `now - began` is what
        the loop saw."""
        if name == "connection.connect_tcp.complete":
            read = getattr(self._stream, "tcp_info", None)
            return handshake_s(now - began, read() if read is not None else None)
        if name == "connection.start_tls.complete":
            server_s = getattr(info.get("return_value"), "handshake_s", None)
            return server_s if isinstance(server_s, float) and 0 < server_s <= now - began else now - began
        if name == "http11.receive_response_headers.complete":
            sent = getattr(self._stream, "request_sent_at", None)
            start = sent if isinstance(sent, float) and began <= sent <= now else began
            self._headers_at = self._arrival(start, now)
            return self._headers_at - start
        return now - began

    def elapsed_ms(self) -> float:
        """Milliseconds since the clock started, as the loop sees them (a failure's time)."""
        return (time.perf_counter() - self._t0) * 1000

    def answered_ms(self) -> float:
        """An answer's time: the sum of its phases (over every hop) plus the time from the arrival of the
        last hop's headers to that of the answer's last bytes. Neither the loop's delays between steps nor
        what the probe engine did with the answer afterwards are the service's time. Without headers seen
        (an exchange that did not go through the trace), the time since the clock started."""
        now = time.perf_counter()
        if self._headers_at is None:
            return (now - self._t0) * 1000
        body_ms = (self._arrival(self._headers_at, now) - self._headers_at) * 1000
        # Summed as phases() rounds them, so that the phases a report shows add up to its total.
        return sum(round(value, 3) for value in self.ms.values()) + round(body_ms, 3)

    def _arrival(self, since: float, now: float) -> float:
        """The last arrival on the current connection if it falls in [since, now], else now."""
        arrived = getattr(self._stream, "arrived_at", None)
        return arrived if isinstance(arrived, float) and since <= arrived <= now else now

    def phases(self, total_ms: float) -> ProbePhases:
        """The timings as evidence, rounded to microseconds."""
        ms = {phase: round(value, 3) for phase, value in self.ms.items()}
        return ProbePhases(
            dns=ms.get("dns"),
            connect=ms.get("connect"),
            tls=ms.get("tls"),
            first_byte=ms.get("first_byte"),
            total=round(total_ms, 3),
            round_trip=None if self.round_trip_ms is None else round(self.round_trip_ms, 3),
        )


def _peer_certificate(stream: Any) -> bytes | None:
    # The TLS stream returned from start_tls exposes the ssl object as extra info.
    if stream is None or not hasattr(stream, "get_extra_info"):
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der: bytes | None = ssl_object.getpeercert(binary_form=True)
    return der
