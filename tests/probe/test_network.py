"""The probes' transport: a fresh connection per request, tried address by address."""

from __future__ import annotations

import asyncio
import socket

import httpcore
import pytest

from infradiag import runtime
from infradiag.probe.network import _connect


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_next_address_is_tried_when_one_refuses() -> None:
    async def main() -> bytes:
        async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"hello")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(greet, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            stream = await _connect([("127.0.0.1", _closed_port()), ("127.0.0.1", port)])
            data = await stream.read(5)
            await stream.aclose()
            return data
        finally:
            server.close()

    assert runtime.run(main()) == b"hello"


def test_when_every_address_refuses_the_first_refusal_is_the_cause() -> None:
    async def main() -> None:
        await _connect([("127.0.0.1", _closed_port()), ("127.0.0.1", _closed_port())])

    with pytest.raises(httpcore.ConnectError) as raised:
        runtime.run(main())
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)
