"""What the kernel knows of a probe's TCP connection (Linux's TCP_INFO), read where the event loop's view of
an instant is late (network.py, phases.py; issue 16).

- tcpi_rtt, read right after connect, is the SYN / SYN-ACK round trip, in microseconds (the first RTT sample
  sets the smoothed RTT), unless a SYN was retransmitted (handshake_s).
- tcpi_last_data_recv is the time since data last arrived, counted in jiffies (4 ms at HZ=250) and given in
  milliseconds: an arrival is known within a jiffy (kernel_instant).
- tcpi_last_data_sent likewise, for when a request went out while the process may have been preempted
  between noting the time and writing.

Elsewhere (not Linux), or on a socket that is not TCP, tcp_info is None and the callers keep the loop's view.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
import typing
from dataclasses import dataclass

# struct tcp_info (linux/tcp.h): the byte offsets of the u32 fields read here, and the length that has them.
_TCP_INFO_BYTES = 104
_LAST_DATA_SENT_AT = 44  # milliseconds since data was last sent, counted in jiffies
_LAST_DATA_RECV_AT = 52  # milliseconds since data last arrived, counted in jiffies
_RTT_AT = 68  # smoothed round-trip time, microseconds
_TOTAL_RETRANS_AT = 100
_CLOCK_MONOTONIC_COARSE = 6  # linux/time.h; Python 3.11's time module has no name for it


def _jiffy_s() -> float:
    # CLOCK_MONOTONIC_COARSE advances once a kernel tick, so its resolution is the tick (4 ms at HZ=250);
    # else 10 ms, the coarsest usual tick (HZ=100), so that the arrival windows stay wide enough.
    if sys.platform != "linux":
        return 0.01
    try:
        return time.clock_getres(_CLOCK_MONOTONIC_COARSE)
    except OSError:
        return 0.01


JIFFY_S = _jiffy_s()


class SocketLike(typing.Protocol):
    """What tcp_info reads from: a socket, or asyncio's TransportSocket for one."""

    def getsockopt(self, level: int, option: int, buflen: int, /) -> bytes: ...


@dataclass(frozen=True)
class TcpInfo:
    """What the kernel knows of a TCP connection (Linux's TCP_INFO), as far as the probes' timings use it."""

    rtt_us: int  # smoothed RTT; right after connect, the SYN / SYN-ACK sample's
    last_data_recv_ms: int  # since data last arrived, in whole jiffies
    last_data_sent_ms: int  # since data last went out, in whole jiffies
    total_retrans: int  # segments retransmitted (with a SYN among them, rtt_us is not the handshake's)


def tcp_info(sock: SocketLike | None) -> TcpInfo | None:
    """The kernel's view of the TCP connection of `sock`; None but on Linux (FreeBSD's TCP_INFO has a layout
    of its own), for a socket that is not a TCP one, or if reading it fails (a closed socket)."""
    option = getattr(socket, "TCP_INFO", None)
    if sock is None or option is None or sys.platform != "linux":
        return None
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, option, _TCP_INFO_BYTES)
    except OSError:
        return None
    if len(raw) < _TCP_INFO_BYTES:
        return None
    (rtt,) = struct.unpack_from("=I", raw, _RTT_AT)
    (last_recv,) = struct.unpack_from("=I", raw, _LAST_DATA_RECV_AT)
    (last_sent,) = struct.unpack_from("=I", raw, _LAST_DATA_SENT_AT)
    (retrans,) = struct.unpack_from("=I", raw, _TOTAL_RETRANS_AT)
    return TcpInfo(
        rtt_us=rtt, last_data_recv_ms=last_recv, last_data_sent_ms=last_sent, total_retrans=retrans
    )


def kernel_instant(
    since_ms: int, read_from: float, read_to: float, not_before: float, jiffy_s: float = JIFFY_S
) -> float:
    """When the kernel last saw data arrive or go out, on time.perf_counter(), from its `since_ms`
    (tcpi_last_data_recv or tcpi_last_data_sent: whole jiffies between that jiffy and the current one) read
    between `read_from` and `read_to`: the middle of the instants that allows, never before `not_before`
    (for an arrival, our last send: no answer to it came earlier) nor after `read_to`.

    The jiffy of the reading began at most one jiffy before it, so the instant lies within
    (read_from - since - 1 jiffy, read_to - since + 1 jiffy): the estimate is at most a jiffy off, however
    long the reading took (the process may be preempted between the clock and the kernel)."""
    since_s = since_ms / 1000
    earliest = max(read_from - since_s - jiffy_s, not_before)
    latest = min(read_to - since_s + jiffy_s, read_to)
    if earliest > latest:  # `not_before` after all the kernel allows (clocks at a tick's edge): trust it
        return min(not_before, read_to)
    return (earliest + latest) / 2


def handshake_s(observed_s: float, info: TcpInfo | None) -> float:
    """The TCP handshake's own duration: the kernel's RTT sample of the SYN / SYN-ACK exchange when it is
    that (nothing retransmitted, a sample taken, no longer than observed); else `observed_s`, what the event
    loop saw, which includes its delay in noticing the connection."""
    if info is None or info.total_retrans or not 0 < info.rtt_us <= observed_s * 1e6:
        return observed_s
    return info.rtt_us / 1e6
