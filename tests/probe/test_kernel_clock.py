"""The kernel's view of a probe's connection (infradiag/probe/kernel.py) and the fallback where there is none:
real sockets, TCP ones where TCP_INFO can be read and Unix ones where it cannot."""

from __future__ import annotations

import asyncio
import socket
import sys
import time

import pytest

from infradiag import runtime
from infradiag.probe.kernel import JIFFY_S, TcpInfo, handshake_s, kernel_instant, tcp_info
from infradiag.probe.network import ArrivalReader

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="TCP_INFO is Linux's")
J = 0.004  # a jiffy at HZ=250, for the arithmetic


def test_an_instant_is_the_middle_of_what_the_kernels_count_allows() -> None:
    # 100 ms ago by the kernel's count: within a jiffy either side of that.
    assert kernel_instant(100, 10.0, 10.0, not_before=0.0, jiffy_s=J) == pytest.approx(9.9)


def test_an_instant_in_the_current_jiffy_is_before_the_reading_not_after() -> None:
    assert kernel_instant(0, 10.0, 10.0, not_before=0.0, jiffy_s=J) == pytest.approx(10.0 - J / 2)


def test_an_arrival_is_never_before_our_last_send() -> None:
    # Sent 1 ms ago, arrived "4 ms ago" by the count: it arrived in the 1 ms since the send.
    assert kernel_instant(4, 10.0, 10.0, not_before=9.999, jiffy_s=J) == pytest.approx(9.9995)
    # A send after all the count allows (clocks at a tick's edge): the send.
    assert kernel_instant(20, 10.0, 10.0, not_before=9.999, jiffy_s=J) == 9.999


def test_a_reading_that_took_long_widens_the_window_it_allows() -> None:
    # Preempted for 50 ms between the clock and the kernel: "now" lies anywhere in those 50 ms.
    assert kernel_instant(100, 10.0, 10.05, not_before=0.0, jiffy_s=J) == pytest.approx((9.896 + 9.954) / 2)


def _info(rtt_us: int, retransmitted: int) -> TcpInfo:
    return TcpInfo(rtt_us=rtt_us, last_data_recv_ms=0, last_data_sent_ms=0, total_retrans=retransmitted)


def test_the_handshake_is_the_kernels_round_trip_when_it_is_that() -> None:
    observed = 0.050  # what the loop saw, late by its queue
    assert handshake_s(observed, _info(80, retransmitted=0)) == 80e-6
    # A retransmitted SYN: the RTT sample is not the handshake's duration.
    assert handshake_s(observed, _info(80, retransmitted=1)) == observed
    # No sample, or one longer than what was observed: not the handshake's either.
    assert handshake_s(observed, _info(0, retransmitted=0)) == observed
    assert handshake_s(observed, _info(60_000, retransmitted=0)) == observed
    assert handshake_s(observed, None) == observed


def test_a_socket_that_is_not_tcp_has_no_kernel_view() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        assert tcp_info(left) is None
    assert tcp_info(left) is None  # closed
    assert tcp_info(None) is None


@linux_only
def test_a_tcp_connection_has_its_round_trip_and_the_age_of_its_last_arrival() -> None:
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as client,
    ):
        connected = tcp_info(client)
        accepted, _ = server.accept()
        with accepted:
            accepted.sendall(b"x")
            assert client.recv(1) == b"x"
            time.sleep(0.1)
            later = tcp_info(client)
    assert connected is not None and later is not None
    assert 0 < connected.rtt_us < 1_000_000 and connected.total_retrans == 0
    assert 100 - JIFFY_S * 1000 <= later.last_data_recv_ms <= 1000


def _reader_on(sock: socket.socket | None) -> tuple[float, float | None]:
    """Bytes fed to an ArrivalReader on `sock` 100 ms after they arrived: when they were fed, and when the
    reader says they arrived."""

    async def main() -> tuple[float, float | None]:
        reader = ArrivalReader()
        reader.sock = sock
        await asyncio.sleep(0.1)
        fed = time.perf_counter()
        reader.feed_data(b"answer")
        return fed, reader.arrived_at

    return runtime.run(main())


def test_without_the_kernels_view_an_arrival_is_when_the_loop_handed_it_over() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        right.sendall(b"answer")
        fed, arrived = _reader_on(left)
    assert arrived is not None and fed <= arrived <= time.perf_counter()


@linux_only
def test_with_the_kernels_view_an_arrival_is_when_the_bytes_came() -> None:
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as client,
    ):
        accepted, _ = server.accept()
        with accepted:
            came = time.perf_counter()
            accepted.sendall(b"answer")
            fed, arrived = _reader_on(client)
    assert arrived is not None
    # 100 ms before it was handed over, known to a jiffy.
    assert came - JIFFY_S <= arrived <= came + JIFFY_S + 0.002
    assert fed - arrived >= 0.1 - JIFFY_S
