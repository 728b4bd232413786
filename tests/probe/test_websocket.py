"""The WebSocket probe kind: the handshake must reach 101, and a message must come back when one is sent.

The twin upgrades and echoes on a path whose behaviour has `status: 101`; servers that misbehave after the
upgrade are the test's own."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from infradiag import runtime
from infradiag.evidence.model import ProbeResult, ProbeTarget
from infradiag.probe import probe_all
from tests.probe.servers import own_server, probe_twin

PATHS: dict[str, dict[str, Any]] = {
    "/ws": {"status": 101},
    "/health": {"json": {"status": "ok"}},
    "/down": {
        "status": 503,
        "body": "<title>503 Server Error</title> The service you requested is not available yet.",
    },
}


def test_the_handshake_reaches_101_with_its_phases() -> None:
    [result] = probe_twin(PATHS, {"path": "/ws", "kind": "websocket"})
    assert (result.outcome, result.ok, result.status, result.kind) == ("ok", True, 101, "websocket")
    assert result.detail.startswith("101 after ")
    assert result.phases.connect is not None and result.phases.first_byte is not None
    assert result.phases.round_trip is None


def test_a_message_round_trip_is_timed_and_the_reply_is_the_body() -> None:
    echo, checked, failed = probe_twin(
        PATHS,
        {"path": "/ws", "kind": "websocket", "message": "ping"},
        {"path": "/ws", "kind": "websocket", "message": '{"db": "up"}', "body_check": 'body.db == "up"'},
        {"path": "/ws", "kind": "websocket", "message": '{"db": "down"}', "body_check": 'body.db == "up"'},
    )
    assert (echo.outcome, echo.body_excerpt) == ("ok", "ping")
    assert echo.phases.round_trip is not None and echo.phases.round_trip > 0
    assert "reply " in echo.detail and " after the message" in echo.detail
    assert (checked.outcome, checked.body_json) == ("ok", {"db": "up"})
    assert (failed.outcome, failed.failed_checks) == (
        "assertion_failed",
        ['body check `body.db == "up"` failed: db = "down"'],
    )


def test_an_endpoint_that_does_not_upgrade_fails_with_what_it_answered() -> None:
    plain, down = probe_twin(
        PATHS, {"path": "/health", "kind": "websocket"}, {"path": "/down", "kind": "websocket"}
    )
    assert (plain.outcome, plain.status, plain.failed_checks) == (
        "assertion_failed",
        200,
        ["status 200, expected 101"],
    )
    assert plain.detail.endswith("(expected 101)")
    assert (down.outcome, down.status, down.served_by) == ("http_5xx", 503, "gfe")


def test_a_plain_get_to_a_websocket_path_gets_426() -> None:
    [result] = probe_twin(PATHS, {"path": "/ws"})
    assert (result.outcome, result.status, result.body_excerpt) == ("http_4xx", 426, "Upgrade Required")


def probe_own(handler: Any, message: str | None = "ping", timeout_s: float = 5) -> ProbeResult:
    async def main() -> ProbeResult:
        async with own_server(handler) as base:
            target = ProbeTarget(
                service="ws", url=base + "/ws", path="/ws", kind="websocket", message=message
            )
            [result] = await probe_all([target], timeout_s=timeout_s)
            return result

    return runtime.run(main())


def test_a_server_that_closes_without_replying_is_an_assertion_failure() -> None:
    async def close_at_once(request: web.BaseRequest) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)  # type: ignore[arg-type]
        await socket.close(code=1011, message=b"backend unavailable")
        return socket

    result = probe_own(close_at_once)
    assert (result.outcome, result.status) == ("assertion_failed", 101)
    assert (
        "then the server closed the WebSocket (1011: backend unavailable) without replying" in result.detail
    )


def test_a_server_that_never_replies_times_out_after_the_upgrade() -> None:
    async def silent(request: web.BaseRequest) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)  # type: ignore[arg-type]
        await asyncio.Event().wait()
        return socket

    result = probe_own(silent, timeout_s=0.5)
    assert (result.outcome, result.status) == ("timeout", 101)
    assert result.detail == "timed out after 0.5 s (101, no WebSocket reply)"


def test_a_101_without_the_right_accept_token_is_not_a_websocket() -> None:
    async def fake(_: web.BaseRequest) -> web.Response:
        return web.Response(
            status=101,
            headers={"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": "nope"},
        )

    result = probe_own(fake, message=None)
    assert (result.outcome, result.status) == ("assertion_failed", 101)
    assert "Sec-WebSocket-Accept does not answer the key" in result.detail
