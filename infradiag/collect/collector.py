"""Runs every collector of one target concurrently; failures become unknowns, never crashes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from infradiag.collect.calls import ApiUnavailable, call_api
from infradiag.collect.clients import Clients
from infradiag.collect.monitoring import CONNECTOR_CPU_P95, CONNECTOR_INSTANCES_MAX, Signal, query_signal
from infradiag.collect.run import list_services
from infradiag.collect.vpcaccess import list_connectors
from infradiag.evidence import ConnectorEvidence, ServiceEvidence, Unknown
from infradiag.target import Target

T = TypeVar("T")

CONSEQUENCES = {
    "run": "Cloud Run services could not be listed: their health URLs, connectors and readiness are unknown",
    "vpcaccess": "connector state and capacity could not be checked",
    "monitoring": "connector load (CPU, instance count) could not be checked",
}


@dataclass
class EnvironmentEvidence:
    """What the collectors found besides the services themselves."""

    connectors: list[ConnectorEvidence] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)


class Collector:
    """All API reads for one target, each call on its own worker thread so none waits for another."""

    def __init__(self, target: Target, now: datetime, api_timeout_s: float = 30.0) -> None:
        self.target = target
        self.now = now
        self.api_timeout_s = api_timeout_s
        self.clients = Clients(target.endpoints)
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="collect")

    def close(self) -> None:
        """Release the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _call(self, source: str, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        project = self.target.project
        return await loop.run_in_executor(
            self._pool, lambda: call_api(source, CONSEQUENCES[source], project, fn, self.api_timeout_s)
        )

    async def services(self) -> list[ServiceEvidence]:
        """Cloud Run services of the target (filtered by the config's list); raises ApiUnavailable."""
        t = self.target
        found = await self._call(
            "run", lambda: list_services(self.clients.run_services, t.project, t.region, self.api_timeout_s)
        )
        return [s for s in found if t.services is None or s.name in t.services]

    async def _signal(self, signal: Signal) -> dict[tuple[str, ...], float]:
        t = self.target
        return await self._call(
            "monitoring",
            lambda: query_signal(
                self.clients.metrics, t.project, t.region, self.now, signal, self.api_timeout_s
            ),
        )

    async def environment(self) -> EnvironmentEvidence:
        """Connectors with their load; every failed source is one Unknown."""
        t = self.target
        results = await asyncio.gather(
            self._call(
                "vpcaccess",
                lambda: list_connectors(self.clients.vpc_access, t.project, t.region, self.api_timeout_s),
            ),
            self._signal(CONNECTOR_CPU_P95),
            self._signal(CONNECTOR_INSTANCES_MAX),
            return_exceptions=True,
        )
        unknowns: list[Unknown] = []
        for result in results:
            if isinstance(result, ApiUnavailable):
                if result.unknown not in unknowns:
                    unknowns.append(result.unknown)
            elif isinstance(result, BaseException):
                raise result
        connectors_found, cpu, instances = results
        connectors = connectors_found if isinstance(connectors_found, list) else []
        cpu_by = cpu if isinstance(cpu, dict) else {}
        instances_by = instances if isinstance(instances, dict) else {}
        loaded = [
            c.model_copy(
                update={
                    "cpu_p95": cpu_by.get((c.name,)),
                    "instances_max": int(instances_by[(c.name,)]) if (c.name,) in instances_by else None,
                }
            )
            for c in connectors
        ]
        return EnvironmentEvidence(connectors=loaded, unknowns=unknowns)
