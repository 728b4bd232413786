"""The probes' transport: httpx's own, with one fresh asyncio connection per request in place of its pool.

A probe is one observation, so it never reuses a connection, and it needs nothing of what a pool does
(waiting for a free connection, matching requests to connections, keep-alive). For a fleet probed at once the
pool was most of a probe's CPU time, and a probe's CPU time delays every probe after it: httpcore's pool and
its anyio backend open a task group on every connect, a cancel scope on every read and an anyio lock and event
per request. Here each request resolves the host, connects with asyncio, shakes hands if https, and runs on
httpcore's HTTP/1.1 connection; closing the response closes the connection.

Errors keep the shapes httpx users know: OSError and ssl.SSLError become httpcore's ConnectError, ReadError
and WriteError with the original as the cause, and ProbeTransport turns those into httpx's exceptions as
httpx's own transport does (the most specific match, raised from the httpcore one), so the outcome classifier
(outcome.py) sees exactly what the default transport would raise.

Only public interfaces are used: httpx's AsyncBaseTransport, Request, Response and AsyncByteStream;
httpcore's Request, URL, Response, AsyncNetworkStream, AsyncHTTP11Connection and exceptions.

Each step is reported to the request's `trace` extension as httpcore reports its own (`<step>.started`, then
`.complete` or `.failed`): `connection.connect_tcp` and `connection.start_tls` with httpcore's names, and
`connection.resolve` for name resolution, which httpcore folds into its connect step.

The connections also keep what the probes' phases (phases.py) are measured by, the kernel's view where the
event loop's is late (one loop runs a whole fleet's probes, so it notices a connect or an arrival only after
the work queued before it; issue 16):

- the TCP handshake's round trip: tcpi_rtt of TCP_INFO right after connect (Linux sets it from the
  SYN / SYN-ACK sample, in microseconds), used unless a SYN was retransmitted (handshake_s);
- when bytes arrived: time.perf_counter() minus tcpi_last_data_recv, read in the I/O callback that hands
  them over (ArrivalReader). The kernel counts it in jiffies (4 ms at HZ=250), so an arrival is known within
  a jiffy, and never before our last send (kernel_instant);
- when the request went out: its first bytes' write, narrowed down by tcpi_last_data_sent if the process was
  preempted during it (AsyncioStream.send);
- TLS: the handshake runs on the ssl module's SSLObject over memory buffers (TlsStream, as asyncio's own TLS
  transport does), so that each flight's sending and the arrival of the answer to it are timed as above.

Where TCP_INFO cannot be read (not Linux, a socket that is not TCP, a failed read), arrivals are when the I/O
callback ran and the connect is what the loop saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import ssl
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import SupportsIndex

import httpcore
import httpx

from infradiag.probe.kernel import SocketLike, TcpInfo, kernel_instant, tcp_info

_READ_ERRORS = (OSError, asyncio.IncompleteReadError)
_TLS_READ_CHUNK = 65536
Trace = Callable[[str, dict[str, typing.Any]], Awaitable[None]]


class ArrivalReader(asyncio.StreamReader):
    """A StreamReader that knows when bytes last arrived (`arrived_at`, on time.perf_counter()): by the
    kernel's account where it can be read (Linux), else when the event loop's I/O callback handed them over.

    A fleet's answers arrive together and are handled one after the other on one loop, so even the I/O
    callback that hands bytes over runs late by the work queued before it (issue 16); the kernel notes each
    arrival as it happens (tcpi_last_data_recv, in jiffies: see kernel_instant)."""

    arrived_at: float | None = None
    sock: SocketLike | None = None  # the connection's TCP socket, once connected
    sent_at: float = -math.inf  # our last send: nothing that answers it arrived before
    _stopped = False

    def feed_data(self, data: Iterable[SupportsIndex]) -> None:
        self._note()
        super().feed_data(data)

    def feed_eof(self) -> None:
        self._note()
        super().feed_eof()

    def stop(self) -> None:
        """Stop noting arrivals: we are closing the connection, and its end is not an arrival."""
        self._stopped = True

    def _note(self) -> None:
        if self._stopped:
            return
        read_from = time.perf_counter()
        info = tcp_info(self.sock)
        read_to = time.perf_counter()
        if info is None:
            self.arrived_at = read_to
        else:
            self.arrived_at = kernel_instant(info.last_data_recv_ms, read_from, read_to, self.sent_at)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP connection, which knows when the request went out and when answers arrived."""

    def __init__(self, reader: ArrivalReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        # When the first write began: the request's (TLS records go out by send(), not write()).
        self.request_sent_at: float | None = None

    @property
    def arrived_at(self) -> float | None:
        """When bytes (or the end of the stream) last arrived, on time.perf_counter(); None before any."""
        return self._reader.arrived_at

    def tcp_info(self) -> TcpInfo | None:
        """The kernel's view of this connection now (None where it cannot be read)."""
        return tcp_info(self._reader.sock)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return await self.receive(max_bytes)
        except _READ_ERRORS as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            sent = await self.send(buffer)
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc
        if self.request_sent_at is None:
            self.request_sent_at = sent

    async def receive(self, max_bytes: int) -> bytes:
        """Up to `max_bytes` bytes, b"" at the end; raises what the connection fails with (OSError...)."""
        return await self._reader.read(max_bytes)

    async def send(self, buffer: bytes) -> float:
        """Write `buffer`, not noted as the request (the connection's own bytes, such as TLS records), and
        return when it went out, on time.perf_counter(); raises the OSError the connection fails with."""
        # asyncio hands the bytes to the kernel within write(): they went out between these two instants,
        # which the kernel narrows down if the process was preempted in between (kernel_instant).
        before = time.perf_counter()
        self._writer.write(buffer)
        after = time.perf_counter()
        info = tcp_info(self._reader.sock)
        read_to = time.perf_counter()
        sent = (
            before
            if info is None
            else min(kernel_instant(info.last_data_sent_ms, after, read_to, before), after)
        )
        self._reader.sent_at = sent  # nothing that answers these bytes arrived before they went out
        await self._writer.drain()
        return sent

    async def aclose(self) -> None:
        # Not wait_closed(): on a reset connection it raises the very OSError the probe is reporting, and
        # re-raising that object inside httpcore's handler breaks the exception's cause chain.
        self._reader.stop()
        self._writer.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        tls = TlsStream(self, ssl_context, server_hostname)
        try:
            await tls.handshake()
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return tls

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return self._reader.at_eof()  # httpcore asks only to spot a dropped kept-alive connection
        if info == "socket":
            return self._writer.get_extra_info(info)
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        return None


class TlsStream(httpcore.AsyncNetworkStream):
    """TLS over an AsyncioStream, with the ssl module's SSLObject and memory buffers (what asyncio's own TLS
    transport is made of), so that the handshake's flights go out and come in where they are timed.

    `handshake_s` is the server's part of the handshake: for each flight we send, the time from its sending
    to the arrival (kernel-timed) of what let the handshake go on. Neither the event loop's delay before we
    send the ClientHello nor our own work between flights counts."""

    def __init__(self, raw: AsyncioStream, context: ssl.SSLContext, server_hostname: str | None) -> None:
        self._raw = raw
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self.handshake_s = 0.0

    async def handshake(self) -> None:
        """Shake hands; raises what SSLObject.do_handshake raises (ssl.SSLCertVerificationError...), the
        OSError the connection fails with, ConnectionResetError if the server closes it first."""
        waiting_since: float | None = None  # when we last sent a flight, or else last heard back
        while not self._shaken():
            sent = await self._flush()
            if sent is not None:
                waiting_since = sent
            data = await self._raw.receive(_TLS_READ_CHUNK)
            if not data:
                raise ConnectionResetError("the server closed the connection during the TLS handshake")
            arrived = self._raw.arrived_at
            if waiting_since is not None and arrived is not None:
                self.handshake_s += max(0.0, arrived - waiting_since)
                waiting_since = arrived
            self._incoming.write(data)
        await self._flush()

    def _shaken(self) -> bool:
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            return False
        return True

    async def _flush(self) -> float | None:
        """Send what the TLS layer has to send; when it went out, or None if there was nothing."""
        data = self._outgoing.read()
        if not data:
            return None
        return await self._raw.send(data)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            while True:
                try:
                    return self._tls.read(max_bytes)
                except ssl.SSLWantReadError:
                    await self._flush()  # a post-handshake message may want an answer
                    data = await self._raw.receive(_TLS_READ_CHUNK)
                    if not data:
                        return b""  # an end without close_notify, as asyncio's TLS transport reads it
                    self._incoming.write(data)
        except ssl.SSLZeroReturnError:
            return b""
        except _READ_ERRORS as exc:  # ssl.SSLError is an OSError
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._tls.write(buffer)
        except ssl.SSLError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc
        data = self._outgoing.read()
        await self._raw.write(data)

    async def aclose(self) -> None:
        # A close_notify if the TLS layer can send one now; the answer to it is not awaited.
        with contextlib.suppress(ssl.SSLError):
            self._tls.unwrap()
        data = self._outgoing.read()
        if data:
            with contextlib.suppress(OSError):  # the connection is going anyway
                await self._raw.send(data)
        await self._raw.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("TLS within TLS (an https proxy) is not something probes do")

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "ssl_object":
            return self._tls
        return self._raw.get_extra_info(info)


async def _open_connection(host: str, port: int) -> tuple[ArrivalReader, asyncio.StreamWriter]:
    """asyncio.open_connection, with an ArrivalReader that knows the TCP socket (asyncio's steps)."""
    loop = asyncio.get_running_loop()
    reader = ArrivalReader(loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport, _ = await loop.create_connection(lambda: protocol, host, port)
    reader.sock = transport.get_extra_info("socket")
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


class _Step:
    """Reports one connection step to the trace callback, as httpcore's own Trace does."""

    def __init__(self, trace: Trace | None, name: str, info: dict[str, typing.Any]) -> None:
        self._trace = trace
        self._name = f"connection.{name}"
        self._info = info
        self.return_value: typing.Any = None

    async def __aenter__(self) -> _Step:
        if self._trace is not None:
            await self._trace(f"{self._name}.started", self._info)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: object) -> None:
        if self._trace is None:
            return
        if exc is None:
            await self._trace(f"{self._name}.complete", {"return_value": self.return_value})
        else:
            await self._trace(f"{self._name}.failed", {"exception": exc})


def _ip_literal(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


async def _resolve(host: str, port: int) -> list[tuple[str, int]]:
    """The addresses to try for host:port, in the resolver's order."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:  # socket.gaierror: the name does not resolve
        raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
    return [(str(info[4][0]), int(info[4][1])) for info in infos]


async def _connect(addresses: list[tuple[str, int]]) -> AsyncioStream:
    """A TCP connection to the first address that accepts one, as asyncio.create_connection tries them."""
    failures: list[OSError] = []
    for address, port in addresses:
        try:
            reader, writer = await _open_connection(address, port)
        except OSError as exc:
            failures.append(exc)
            continue
        return AsyncioStream(reader, writer)
    first = failures[0]
    raise httpcore.ConnectError(str(first) or type(first).__name__) from first


class FreshConnections:
    """Sends every request on a connection of its own, closed with the response."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        """The response to `request`, its body still to be read; closing it closes the connection."""
        origin = request.url.origin
        host = origin.host.decode("ascii")
        trace: Trace | None = request.extensions.get("trace")
        addresses = [(host, origin.port)]
        if not _ip_literal(host):
            async with _Step(trace, "resolve", {"host": host, "port": origin.port}) as step:
                step.return_value = addresses = await _resolve(host, origin.port)
        async with _Step(trace, "connect_tcp", {"host": host, "port": origin.port}) as step:
            step.return_value = stream = await _connect(addresses)
        connected: httpcore.AsyncNetworkStream = stream
        try:
            if origin.scheme == b"https":
                server_hostname = request.extensions.get("sni_hostname") or host
                tls = {"ssl_context": self._ssl_context, "server_hostname": server_hostname}
                async with _Step(trace, "start_tls", tls) as step:
                    step.return_value = connected = await stream.start_tls(self._ssl_context, server_hostname)
            connection = httpcore.AsyncHTTP11Connection(origin=origin, stream=connected)
            response = await connection.handle_async_request(request)
            body = typing.cast(typing.AsyncIterable[bytes], response.stream)
        except BaseException:
            await connected.aclose()
            raise
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_ClosingBody(body, connection),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Nothing to release: connections close with their responses."""


class _ClosingBody:
    """A response body whose closing closes its connection (which keeps nothing alive)."""

    def __init__(self, body: typing.AsyncIterable[bytes], connection: httpcore.AsyncHTTP11Connection) -> None:
        self._body = body
        self._connection = connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._body:
            yield chunk

    async def aclose(self) -> None:
        await self._connection.aclose()


# httpcore's exceptions and the httpx ones they become: the table httpx's own transport maps by
# (https://www.python-httpx.org/exceptions/ lists both hierarchies).
_HTTPX_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
}


def httpx_error(exc: Exception) -> httpx.TransportError | None:
    """The httpx exception an httpcore one becomes (the most specific match), or None for any other."""
    mapped: type[httpx.TransportError] | None = None
    for source, target in _HTTPX_ERRORS.items():
        if isinstance(exc, source) and (mapped is None or issubclass(target, mapped)):
            mapped = target
    return None if mapped is None else mapped(str(exc))


@contextlib.contextmanager
def _as_httpx_errors() -> typing.Iterator[None]:
    try:
        yield
    except Exception as exc:
        mapped = httpx_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


class _ResponseBody(httpx.AsyncByteStream):
    """The response body for httpx: httpcore's errors while reading become httpx's."""

    def __init__(self, body: typing.AsyncIterable[bytes]) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._body:
                yield chunk

    async def aclose(self) -> None:
        close = getattr(self._body, "aclose", None)
        if close is not None:
            await close()


class ProbeTransport(httpx.AsyncBaseTransport):
    """An httpx transport over FreshConnections: httpx requests in, httpx responses and exceptions out."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        # Probes speak HTTP/1.1 only; set once here rather than per connection as httpcore does.
        ssl_context.set_alpn_protocols(["http/1.1"])
        self._connections = FreshConnections(ssl_context)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` on a connection of its own; the response's body is still to be read."""
        assert isinstance(request.stream, httpx.AsyncByteStream)
        outgoing = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = await self._connections.handle_async_request(outgoing)
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseBody(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Nothing to release: connections close with their responses."""
