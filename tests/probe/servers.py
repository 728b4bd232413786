"""Endpoints for probe tests: the twin's service endpoints, and small aiohttp servers of a test's own for
behaviours a scenario cannot express (a header that must be present, an answer that changes)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from infradiag import runtime
from infradiag.evidence.model import ProbeResult, ProbeTarget
from infradiag.probe import probe_all
from infradiag.twin.endpoints import ServiceEndpoints
from infradiag.twin.scenario import EndpointBehaviour

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def twin_endpoints(paths: dict[str, dict[str, Any]] | None) -> AsyncIterator[ServiceEndpoints]:
    """The twin's endpoints of one service `svc` answering per `paths` (None: no entry, all healthy)."""
    behaviours = (
        {} if paths is None else {"svc": {p: EndpointBehaviour.model_validate(b) for p, b in paths.items()}}
    )
    endpoints = await ServiceEndpoints.start(["svc"], behaviours)
    try:
        yield endpoints
    finally:
        await endpoints.close()


def probe_twin(
    paths: dict[str, dict[str, Any]] | None, *targets: dict[str, Any], **options: Any
) -> list[ProbeResult]:
    """Serve `svc` with `paths`, probe each target (ProbeTarget fields; `path` is joined to the URL)."""

    async def main() -> list[ProbeResult]:
        async with twin_endpoints(paths) as endpoints:
            probed = [
                ProbeTarget.model_validate({"service": "svc", **t, "url": endpoints.urls["svc"] + t["path"]})
                for t in targets
            ]
            return await probe_all(probed, **options)

    return runtime.run(main())


@asynccontextmanager
async def own_server(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A loopback aiohttp server answering every request with `handler`; yields its base URL."""
    runner = web.ServerRunner(web.Server(handler, access_log=None), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def fleet_scenario(endpoints: dict[str, dict[str, dict[str, Any]]], **top: Any) -> dict[str, Any]:
    """A small scenario (docs/scenario-format.md v1): one Cloud Run service per key of `endpoints`, answering
    as its value says; `top` adds top-level keys (apiFaults, ...)."""
    project, region = "acme-probe", "us-central1"
    services = [
        {
            "name": f"projects/{project}/locations/{region}/services/{name}",
            "uri": f"https://{name}-abcdefghij-uc.a.run.app",
            "template": {"containers": [{"image": f"us-docker.pkg.dev/{project}/apps/{name}:1"}]},
            "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
        }
        for name in endpoints
    ]
    return {
        "apiVersion": "infradiag/twin-v1",
        "name": "probe-test",
        "project": project,
        "region": region,
        "now": "2026-09-15T23:06:52Z",
        "run": {"services": services},
        "endpoints": endpoints,
        **top,
    }
