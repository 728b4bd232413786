"""A fleet of HTTP endpoints that say when they received each request and when they answered, on the
machine's monotonic clock (time.perf_counter() is CLOCK_MONOTONIC on Linux, the same in every process): the
account a probe's timings are checked against (test_phase_timing.py).

    python tests/probe/stamping_server.py COUNT [--tls CERT KEY]

listens on COUNT loopback ports, prints them as a JSON list on one line, and serves until stdin closes.
`GET /delay/MS/ANY` is answered MS milliseconds after the request was received, with a JSON body:
`receivedEarliest` and `receivedLatest` bound when the request's last bytes arrived (the kernel's
tcpi_last_data_recv, read independently of infradiag's own reading of it, and this server's own noticing),
`answered` is just before the answer was written. `GET /written` answers when each answer had been written,
by "PORT/delay/MS/ANY". A server of its own (not the twin) so that its account is
exact, in a process of its own so that the prober's stalls are not its own.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
import sys
import time

JIFFY_S = time.clock_getres(6)  # CLOCK_MONOTONIC_COARSE advances once a kernel tick


def received_window(sock: socket.socket) -> tuple[float, float]:
    """Earliest and latest instants at which data last arrived on `sock` (linux/tcp.h: tcpi_last_data_recv,
    a u32 at byte 52, whole jiffies in milliseconds)."""
    now = time.perf_counter()
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    since = struct.unpack_from("=I", raw, 52)[0] / 1000
    return now - since - JIFFY_S, now


# When each answer had been written, by "PORT/PATH", for GET /written.
WRITTEN: dict[str, float] = {}


class Stamping(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.request = b""
        self.received = (0.0, 0.0)
        self.target = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.received = received_window(self.transport.get_extra_info("socket"))
        self.request += data
        if b"\r\n\r\n" not in self.request:
            return
        self.target = self.request.split(b" ", 2)[1].decode()
        if self.target == "/written":
            self.reply(json.dumps(WRITTEN))
            return
        delay_ms = int(self.target.split("/")[2])
        asyncio.get_running_loop().call_later(delay_ms / 1000, self.answer)

    def answer(self) -> None:
        assert self.transport is not None
        earliest, latest = self.received
        answered = time.perf_counter()
        self.reply(json.dumps({"receivedEarliest": earliest, "receivedLatest": latest, "answered": answered}))
        # After the write, which hands the answer to the kernel: the process may have been preempted
        # between the stamp above and the write.
        WRITTEN[f"{self.transport.get_extra_info('sockname')[1]}{self.target}"] = time.perf_counter()

    def reply(self, body: str) -> None:
        assert self.transport is not None
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.transport.write(f"{head}Connection: close\r\n\r\n{body}".encode())
        self.transport.close()


async def serve(count: int, tls: ssl.SSLContext | None) -> None:
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(Stamping, "127.0.0.1", 0, ssl=tls) for _ in range(count)]
    print(json.dumps([server.sockets[0].getsockname()[1] for server in servers]), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin


def main() -> None:
    tls = None
    if "--tls" in sys.argv:
        cert, key = sys.argv[sys.argv.index("--tls") + 1 : sys.argv.index("--tls") + 3]
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
    asyncio.run(serve(int(sys.argv[1]), tls))


if __name__ == "__main__":
    main()
