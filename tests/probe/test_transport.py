"""ProbeTransport is an httpx transport built on public interfaces only: httpx requests in, httpx responses
and httpx's exceptions out (https://www.python-httpx.org/exceptions/), each step reported to `trace`."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import httpcore
import httpx
import pytest
from aiohttp import web

from infradiag import runtime
from infradiag.probe.network import ProbeTransport, httpx_error
from tests.probe.servers import own_server

# Every transport exception httpcore raises has the httpx exception of the same name
# (https://www.encode.io/httpcore/exceptions/, https://www.python-httpx.org/exceptions/).
SHARED_NAMES = [
    "TimeoutException",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
    "NetworkError",
    "ConnectError",
    "ReadError",
    "WriteError",
    "ProxyError",
    "UnsupportedProtocol",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
]


@pytest.mark.parametrize("name", SHARED_NAMES)
def test_each_httpcore_error_becomes_the_httpx_error_of_its_name(name: str) -> None:
    mapped = httpx_error(getattr(httpcore, name)("what happened"))
    assert type(mapped) is getattr(httpx, name)
    assert str(mapped) == "what happened"


def test_other_exceptions_are_left_alone() -> None:
    assert httpx_error(ValueError("no")) is None


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=ProbeTransport(ssl.create_default_context()), trust_env=False)


def test_a_refused_connection_is_httpx_connect_error_caused_by_the_refusal() -> None:
    async def main() -> None:
        async with _client() as client:
            await client.get(f"http://127.0.0.1:{_closed_port()}/health")

    with pytest.raises(httpx.ConnectError) as raised:
        runtime.run(main())
    assert isinstance(raised.value.__cause__, httpcore.ConnectError)
    assert isinstance(raised.value.__cause__.__cause__, ConnectionRefusedError)


def test_a_response_is_read_whole_and_each_step_is_traced() -> None:
    steps: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        steps.append(name)

    async def handler(request: web.BaseRequest) -> web.Response:
        return web.json_response({"path": request.path}, headers={"X-Probe": "yes"})

    async def main() -> httpx.Response:
        async with own_server(handler) as base, _client() as client:
            return await client.get(f"{base}/health", extensions={"trace": trace})

    response = runtime.run(main())
    assert (response.status_code, response.json(), response.headers["x-probe"]) == (
        200,
        {"path": "/health"},
        "yes",
    )
    assert steps[:2] == ["connection.connect_tcp.started", "connection.connect_tcp.complete"]
    assert "http11.receive_response_headers.complete" in steps


def test_a_body_cut_short_is_an_httpx_error_while_reading() -> None:
    async def serve_half(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve_half, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with _client() as client:
                await client.get(f"http://127.0.0.1:{port}/health")
        finally:
            server.close()

    with pytest.raises(httpx.RemoteProtocolError) as raised:
        runtime.run(main())
    assert isinstance(raised.value.__cause__, httpcore.RemoteProtocolError)
