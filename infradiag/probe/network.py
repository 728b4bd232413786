"""An httpcore network backend on plain asyncio streams, for probes.

httpcore's default backend on asyncio goes through anyio: every connect runs a happy-eyeballs task group and
every read and write opens a cancel scope. For a fleet probed at once that was a third of the CPU time of a
probe, and a probe's CPU time delays every probe after it. Probes need none of it: each probe is bounded as
a whole by asyncio.timeout (http.py), and opens exactly one connection. Errors are mapped as httpcore's own
backends map them (ConnectError, ReadError, WriteError, with the OSError as the cause), so httpx raises and
the outcome classifier sees exactly what it would with the default backend.
"""

from __future__ import annotations

import asyncio
import ssl
import typing

import httpcore
import httpx

_READ_ERRORS = (OSError, asyncio.IncompleteReadError)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return await self._reader.read(max_bytes)
        except _READ_ERRORS as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            await self._writer.drain()
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        # Not wait_closed(): on a reset connection it raises the very OSError the probe is reporting, and
        # re-raising that object inside httpcore's handler breaks the exception's cause chain.
        self._writer.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        try:
            await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return self._reader.at_eof()  # httpcore asks only to spot a dropped kept-alive connection
        if info in ("ssl_object", "socket"):
            return self._writer.get_extra_info(info)
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connects with asyncio.open_connection; an IP literal host skips the resolver entirely."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            reader, writer = await asyncio.open_unix_connection(path)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ProbeTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport for one probe: one connection, never kept alive, on AsyncioBackend."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx takes no network backend of its own; its pool is replaced by one built the same way with
        # the asyncio backend (httpx 0.28 keeps the pool in `_pool` and only calls it from its methods).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            max_keepalive_connections=0,
            network_backend=AsyncioBackend(),
        )
