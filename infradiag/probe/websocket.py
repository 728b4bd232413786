"""The WebSocket probe kind: the upgrade handshake must reach 101, then an optional message round trip.

The handshake is an ordinary httpx request (RFC 6455 section 4.1), so it is timed, redirected, authenticated
and classified exactly like an HTTP probe; a failed upgrade keeps its status and body excerpt (a GFE 503 page
on a WebSocket path is still recognised). After the 101, wsproto frames the conversation over the very
connection httpcore hands back.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Message, Ping, TextMessage
from wsproto.utilities import generate_accept_token, generate_nonce

from infradiag.probe.outcome import WebSocketFailure
from infradiag.probe.phases import PhaseClock

READ_CHUNK = 65536


def upgrade_headers() -> tuple[dict[str, str], bytes]:
    """Headers of a WebSocket upgrade request, and the key the server's accept token must answer."""
    key = generate_nonce()
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key.decode(),
    }
    return headers, key


async def converse(
    response: httpx.Response, key: bytes, message: str | None, limit: int, clock: PhaseClock
) -> bytes:
    """After a 101: check the accept token, then send `message` and return the reply (at most `limit` bytes).

    Raises WebSocketFailure when the accept token is wrong or the server closes without replying.
    """
    accept = response.headers.get("sec-websocket-accept", "")
    if accept.encode() != generate_accept_token(key):
        raise WebSocketFailure("its Sec-WebSocket-Accept does not answer the key (not a WebSocket server)")
    if message is None:
        return b""
    stream: Any = response.extensions["network_stream"]
    connection = Connection(ConnectionType.CLIENT)
    started = time.perf_counter()
    await stream.write(connection.send(TextMessage(data=message)))
    reply = bytearray()
    while True:
        data = await stream.read(READ_CHUNK)
        if not data:
            raise WebSocketFailure("the server closed the connection without replying")
        connection.receive_data(data)
        for event in connection.events():
            if isinstance(event, Message):
                piece = event.data.encode() if isinstance(event.data, str) else bytes(event.data)
                reply += piece[: limit - len(reply)]
                if event.message_finished or len(reply) >= limit:
                    clock.round_trip_ms = (time.perf_counter() - started) * 1000
                    await _close(stream, connection)
                    return bytes(reply)
            elif isinstance(event, Ping):
                await stream.write(connection.send(event.response()))
            elif isinstance(event, CloseConnection):
                reason = f": {event.reason}" if event.reason else ""
                raise WebSocketFailure(
                    f"the server closed the WebSocket ({event.code}{reason}) without replying"
                )


async def _close(stream: Any, connection: Connection) -> None:
    # A polite close frame; the reply is not awaited, the connection is dropped right after.
    with contextlib.suppress(Exception):
        await stream.write(connection.send(CloseConnection(code=1000)))
