"""Start and stop a whole twin: REST APIs, Monitoring over gRPC, and every service's endpoints."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from infradiag.runtime import new_event_loop
from infradiag.twin.auth import TOKEN_PATH, TwinAuth
from infradiag.twin.endpoints import SHUTDOWN_GRACE_S, IdTokenCheck, ServiceEndpoints
from infradiag.twin.faults import FaultInjector
from infradiag.twin.monitoring import MonitoringServer, start_monitoring_server
from infradiag.twin.requestlog import RequestLog
from infradiag.twin.rest import ENDPOINT_APIS, RestApis, make_app
from infradiag.twin.scenario import ApiFault, Scenario

# How long stop() waits for the listeners to close before it stops the twin's loop regardless. Closing takes
# well under a second (handlers in flight, delayed ones included, are cancelled after SHUTDOWN_GRACE_S).
STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class TwinAddresses:
    """Where a running twin listens, in the shape `twin serve --format json` prints."""

    project: str
    region: str
    rest: str  # base URL shared by every REST API (ENDPOINT_APIS)
    grpc: str  # host:port of Monitoring
    services: dict[str, str] = field(default_factory=dict)
    # PEM of the CA that plays a public one for the endpoints (twin/endpoints.py); "" when nothing uses it.
    ca_pem: str = ""

    def as_json(self) -> dict[str, Any]:
        """The JSON object of docs/scenario-format.md, "Checking and serving a scenario"."""
        return {
            "project": self.project,
            "region": self.region,
            "rest": dict.fromkeys(ENDPOINT_APIS, self.rest),
            "grpc": {"monitoring": self.grpc},
            "services": dict(self.services),
        }


class _CurrentFaults(FaultInjector):
    """The apiFaults of the scenario served now; `Twin.swap` replaces them for REST and Monitoring at once."""

    def __init__(self, faults: list[ApiFault]) -> None:
        super().__init__([])
        self.current = FaultInjector(faults)

    def match(self, api: str, method: str) -> ApiFault | None:
        return self.current.match(api, method)


class Twin:
    """A running twin of one scenario; use as a context manager or call start()/stop()."""

    def __init__(self, scenario: Scenario, host: str = "127.0.0.1") -> None:
        self.scenario = scenario
        self.host = host
        self.log = RequestLog()
        self._faults = _CurrentFaults(scenario.apiFaults)
        settings = scenario.twin
        # Twin-only: with requireCredentials the twin is its own identity provider (twin/auth.py).
        self.auth = (
            TwinAuth(scenario.project, settings.serviceAccounts, settings.tokenLifetimeSeconds)
            if settings.requireCredentials
            else None
        )
        # uvloop where installed, as the commands run: a fleet's probes arrive at once, and asyncio's own loop
        # took up to 40 ms to take in 200 of them, lateness that the probes then measured as the services'.
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="twin", daemon=True)
        self._runner: web.AppRunner | None = None
        self._endpoints: ServiceEndpoints | None = None
        self._monitoring: MonitoringServer | None = None
        self.addresses: TwinAddresses | None = None

    def start(self) -> TwinAddresses:
        """Bind every listener on ephemeral loopback ports; returns where they are."""
        self._thread.start()
        starting = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        try:
            self.addresses = starting.result(timeout=30)
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM) or failed part-way: the start goes on on the twin's loop, and a
            # listener it opens after this point would outlive the command (a gRPC server left running can
            # hold the process at exit). Let it settle, then stop whatever it started.
            with contextlib.suppress(concurrent.futures.TimeoutError):
                starting.exception(timeout=STOP_TIMEOUT_S)
            self.stop()
            raise
        return self.addresses

    async def _start(self) -> TwinAddresses:
        private: dict[str, IdTokenCheck] | None = None
        if self.auth is not None:
            private = dict.fromkeys(self.scenario.private_short_names(), self.auth.id_token_valid)
        self._endpoints = await ServiceEndpoints.start(
            self.scenario.served_short_names(), self.scenario.endpoints, host=self.host, private=private
        )
        self._runner = await self._serve_rest(0)
        port = self._runner.addresses[0][1]
        self._monitoring = start_monitoring_server(
            self.scenario, self.log, self._faults, host=self.host, auth=self.auth
        )
        return TwinAddresses(
            project=self.scenario.project,
            region=self.scenario.region,
            rest=f"http://{self.host}:{port}",
            grpc=self._monitoring.address,
            services=dict(self._endpoints.urls),
            ca_pem=self._endpoints.ca_pem.decode("ascii"),
        )

    async def _serve_rest(self, port: int) -> web.AppRunner:
        assert self._endpoints is not None
        apis = RestApis(self.scenario, self._endpoints.urls, self.log, self._faults)
        # Handlers end with their client (one that gave up no longer holds a delayed call open), and closing
        # cancels the ones still running after a short grace: an apiFault's delay never holds up stop().
        runner = web.AppRunner(
            make_app(apis, self.auth),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=SHUTDOWN_GRACE_S,
        )
        await runner.setup()
        await web.TCPSite(runner, self.host, port).start()
        return runner

    def write_key_file(self, path: Path) -> Path:
        """Write a service account key file whose `token_uri` is this twin's token endpoint (a twin that
        requires credentials only; start it first)."""
        if self.auth is None or self.addresses is None:
            raise RuntimeError("only a started twin that requires credentials has a key file")
        return self.auth.write_key_file(path, f"{self.addresses.rest}{TOKEN_PATH}")

    def swap(self, scenario: Scenario) -> None:
        """Serve `scenario` from now on, on the same ports: how a test makes a twin change over time.

        The scenario must have the same project, region and services, with a uri for the same ones
        (ValueError otherwise). Endpoint behaviours and apiFaults change in place; the REST APIs are served
        anew on their port (a REST call in flight may see its connection closed); Monitoring reads the
        scenario object, updated in place.
        """
        if self._endpoints is None or self._runner is None:
            raise RuntimeError("start the twin before swapping its scenario")

        def shape(s: Scenario) -> tuple[str, str, list[str], list[str]]:
            # The endpoints listen where they listen: the services with a uri must stay the same too.
            return (s.project, s.region, s.service_short_names(), s.served_short_names())

        if shape(scenario) != shape(self.scenario):
            raise ValueError("swap needs a scenario with the same project, region and services (and uris)")
        self._endpoints.swap(scenario.endpoints)
        for name in type(scenario).model_fields:
            setattr(self.scenario, name, getattr(scenario, name))
        self._faults.current = FaultInjector(scenario.apiFaults)
        asyncio.run_coroutine_threadsafe(self._reserve_rest(), self._loop).result(timeout=30)

    async def _reserve_rest(self) -> None:
        assert self._runner is not None
        port = self._runner.addresses[0][1]
        await self._runner.cleanup()
        self._runner = await self._serve_rest(port)

    def stop(self) -> None:
        """Close every listener and end the twin's thread, cancelling calls in flight (delayed or hung ones
        included); returns within about STOP_TIMEOUT_S whatever they do, never raises; safe to call twice."""
        if self._thread.is_alive():
            if self._monitoring is not None:
                self._monitoring.stop()
            closing = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
            with contextlib.suppress(concurrent.futures.TimeoutError):
                closing.result(timeout=STOP_TIMEOUT_S)
            closing.cancel()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=STOP_TIMEOUT_S)
            if (
                not self._thread.is_alive()
            ):  # else the daemon thread still runs it: leave it to the process end
                self._loop.close()
        # A start cut short (start()) may have opened the Monitoring server after the check above: it is
        # not served by the loop, so it would outlive it. Stopping a stopped server returns at once.
        if self._monitoring is not None:
            self._monitoring.stop()

    async def _stop(self) -> None:
        if self._endpoints is not None:
            await self._endpoints.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> Twin:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
