"""Per-phase timings from the `trace` extension, and the server certificate seen on the way.

The probes' transport (network.py) reports name resolution, connect and TLS as connection steps, and httpcore
reports the HTTP exchange. `dns` is None for an IP literal (nothing to resolve); a phase that was attempted
and failed reports the time until it failed. Phases are summed over redirect hops.
"""

from __future__ import annotations

import time
from typing import Any

from infradiag.evidence.model import ProbePhases

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
        self._stream: Any = None  # the connection of the current hop (network.AsyncioStream)

    async def event(self, name: str, info: dict[str, Any]) -> None:
        """The `trace` callback httpcore calls at each step."""
        now = time.perf_counter()
        if name == "connection.connect_tcp.complete":
            self._stream = info.get("return_value")
        if name == "http11.receive_response_headers.complete":
            now = self._arrival(self._began.get("first_byte", now), now)
        if name in _STARTS:
            phase = _STARTS[name]
            self._began[phase] = now
            self.pending = phase
        elif name in _ENDS and _ENDS[name] in self._began:
            phase = _ENDS[name]
            self.ms[phase] = self.ms.get(phase, 0.0) + (now - self._began.pop(phase)) * 1000
            if name.endswith(".complete"):
                self.pending = None
        if name == "connection.start_tls.complete":
            self.peer_certificate = _peer_certificate(info.get("return_value"))

    def elapsed_ms(self) -> float:
        """Milliseconds since the clock started."""
        return (time.perf_counter() - self._t0) * 1000

    def answered_ms(self) -> float:
        """Milliseconds from the start to the arrival of the last bytes of the answer (of the last hop), as
        the event loop's I/O callback saw them (network.ArrivalReader); since the clock started if no
        bytes arrived. What the probe engine did with the answer afterwards is not the service's time."""
        now = time.perf_counter()
        return (self._arrival(self._t0, now) - self._t0) * 1000

    def _arrival(self, since: float, now: float) -> float:
        """The last arrival on the current connection if it falls in [since, now], else now."""
        arrived = getattr(self._stream, "arrived_at", None)
        return arrived if arrived is not None and since <= arrived <= now else now

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
    # The TLS stream httpcore returns from start_tls exposes the ssl object as extra info.
    if stream is None or not hasattr(stream, "get_extra_info"):
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der: bytes | None = ssl_object.getpeercert(binary_form=True)
    return der
