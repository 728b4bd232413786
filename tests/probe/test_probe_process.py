"""The probe process (infradiag/probe/process.py): ID tokens come from this process's credentials, a cut run
kills the child (its probes are moot) and the next run starts a new one, and a child that cannot answer
never costs the probes."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from aiohttp import web

from infradiag import runtime
from infradiag.evidence.model import ProbeResult, ProbeTarget
from infradiag.probe import process
from tests.probe.servers import own_server

TOKEN = "eyJhbGciOiJSUzI1NiJ9.minted-by-the-parent.signature"


def test_id_tokens_are_minted_by_the_triage_process_and_never_reported() -> None:
    seen: list[str] = []
    asked: list[str] = []

    async def echo(request: web.BaseRequest) -> web.StreamResponse:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"status": "ok", "echo": request.headers.get("Authorization", "")})

    def mint(audience: str, timeout_s: float) -> str:
        asked.append(audience)
        return TOKEN

    async def main() -> list[ProbeResult]:
        async with own_server(echo) as base:
            target = ProbeTarget(service="private", url=base + "/health", path="/health", auth="id_token")
            return await process.probe_in_child([target], {}, None, time.monotonic() + 20, mint)

    [result] = runtime.run(main())
    assert result.ok and seen == [f"Bearer {TOKEN}"] and len(asked) == 1
    assert process.child_pid() not in (None, os.getpid())
    assert TOKEN not in result.model_dump_json()


def test_a_cut_run_kills_the_probe_process_and_the_next_run_starts_another() -> None:
    async def hang(request: web.BaseRequest) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response()

    async def cut() -> None:
        async with own_server(hang) as base:
            target = ProbeTarget(service="stuck", url=base + "/health", path="/health")
            await asyncio.wait_for(process.probe_in_child([target], {}, None, None, None), timeout=1.0)

    runtime.run(process.probe_in_child([], {}, None, None, None))  # started and ready
    before = process.child_pid()
    assert before is not None
    with pytest.raises(TimeoutError):
        runtime.run(cut())
    assert process.child_pid() is None  # killed, not left probing

    async def again() -> list[ProbeResult]:
        async def fine(request: web.BaseRequest) -> web.StreamResponse:
            return web.Response(text="ok")

        async with own_server(fine) as base:
            target = ProbeTarget(service="fine", url=base + "/health", path="/health")
            return await process.probe_in_child([target], {}, None, time.monotonic() + 20, None)

    [result] = runtime.run(again())
    assert result.ok
    assert process.child_pid() not in (None, before)


def test_invalid_arguments_raise_here_as_probe_all_raises_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from infradiag.errors import UsageError

    monkeypatch.delenv("INFRADIAG_TEST_UNSET", raising=False)
    target = ProbeTarget(
        service="svc", url="http://127.0.0.1:9/health", path="/health", auth="env:INFRADIAG_TEST_UNSET"
    )
    with pytest.raises(UsageError, match="INFRADIAG_TEST_UNSET is not set"):
        runtime.run(process.probe_in_child([target], {}, None, None, None))
    with pytest.raises(ValueError, match="not an absolute http"):
        runtime.run(
            process.probe_in_child(
                [ProbeTarget(service="svc", url="ftp://x/", path="/")], {}, None, None, None
            )
        )
