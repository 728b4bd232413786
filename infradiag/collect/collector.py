"""Runs every API read of one target concurrently; failures become unknowns, never crashes.

Every list call and every Monitoring query starts at once, each on a thread of its own, so the critical path
is one API call deep. Only two reads depend on others: backendServices.getHealth (after the backend service
and NEG lists) and Cloud Run getIamPolicy (after the probes, for services that answered 401/403).

With a deadline, every read ends by it: each client call gets the time left as its timeout (calls.py), and
a read still without an answer then is given up and reported as timed out. Its thread is a daemon, so a call
stuck where no timeout reaches (a DNS lookup, a server trickling bytes) never keeps the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from infradiag.collect import join, registry, signals
from infradiag.collect.api import Scope
from infradiag.collect.calls import (
    ApiRead,
    ApiUnavailable,
    CallDeadline,
    call_api,
    merge_unknowns,
    not_started,
    timed_out,
)
from infradiag.collect.clients import Clients
from infradiag.collect.compute import (
    SUBNETS,
    NatStatus,
    get_nat_status,
    list_nats,
    routers_with_nat,
    with_nat_status,
)
from infradiag.collect.firewall_policies import read_network_policies
from infradiag.collect.loadbalancing import (
    BackendHealth,
    HealthQuery,
    get_backend_health,
    health_queries,
    list_backend_services,
    list_instance_groups,
    list_instances,
    list_serverless_negs,
    needs_instance_groups,
    needs_instances,
    with_health,
    with_instance_groups,
    with_instances,
    with_serverless_negs,
)
from infradiag.collect.monitoring import Series, Signal, newest, query_series
from infradiag.collect.run import REVISIONS, get_invokers, list_services
from infradiag.collect.sql import SQL_INSTANCES
from infradiag.collect.vpcaccess import CONNECTORS
from infradiag.evidence import (
    BackendServiceEvidence,
    ConnectorEvidence,
    Evidence,
    InvokerEvidence,
    NatEvidence,
    NetworkPoliciesEvidence,
    ProbeResult,
    ServiceEvidence,
    SqlInstanceEvidence,
    SubnetEvidence,
    Unknown,
)
from infradiag.evidence.reachability import connector_source
from infradiag.identity import Resolved
from infradiag.target import Target

T = TypeVar("T")

# Reads in flight at once: every list and Monitoring query of an environment fits (about 30).
MAX_READS_IN_FLIGHT = 32


@dataclass
class EnvironmentEvidence:
    """What the collectors found besides the services themselves."""

    # What each independent read (registry.INDEPENDENT) answered, by the Evidence field it fills; a read that
    # failed is missing.
    found: dict[str, Any] = field(default_factory=dict)
    backend_services: list[BackendServiceEvidence] = field(default_factory=list)
    nats: list[NatEvidence] = field(default_factory=list)
    # Per network a connector reaches a private target on; a network whose read failed is missing.
    firewall_policies: list[NetworkPoliciesEvidence] = field(default_factory=list)
    signals: dict[str, Series | None] = field(default_factory=dict)  # None: the query failed


@dataclass
class ReadLog:
    """What a collector's reads made of the project so far: the unknowns, and the reads that answered and
    that failed (by registry or signal name)."""

    unknowns: list[Unknown] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


def _in_daemon_thread(fn: Callable[[], T]) -> asyncio.Future[T]:
    """fn() on a new daemon thread; its outcome settles the returned future unless that was given up."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if future.done():  # given up at the deadline
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)  # type: ignore[arg-type]

    def work() -> None:
        value: T | None = None
        error: BaseException | None = None
        try:
            value = fn()
        except BaseException as exc:  # handed to the awaiting task, which decides
            error = exc
        # A closed loop (RuntimeError) means nobody waits for this read any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=work, name="collect", daemon=True).start()
    return future


class Collector:
    """All API reads for one target, each call on its own thread so none waits for another; with a
    `deadline` (a time.monotonic() instant) every read ends by it, else each within `api_timeout_s`."""

    def __init__(
        self,
        target: Target,
        now: datetime,
        deadline: float | None = None,
        api_timeout_s: float = 30.0,
        auth: Resolved | None = None,
    ) -> None:
        """`auth`: the run's resolved credentials, shared by every client (None: anonymous at a twin, the
        libraries' own ADC lookup at Google)."""
        self.target = target
        self.now = now
        self.deadline = deadline
        self.api_timeout_s = api_timeout_s
        self.clients = Clients(target.endpoints, auth)
        self._slots = asyncio.Semaphore(MAX_READS_IN_FLIGHT)
        self._unknowns: list[Unknown] = []
        self._answered: set[str] = set()
        self._failed: set[str] = set()

    def close(self) -> None:
        """Close the channels; calls still in flight on them end at once."""
        self.clients.close()

    def _endpoint(self, source: str) -> str | None:
        endpoints = self.target.endpoints
        if endpoints is None:
            return None
        return endpoints.grpc if source == "monitoring" else endpoints.rest

    def _fail(self, name: str, unknown: Unknown) -> None:
        self._unknowns.append(unknown)
        self._failed.add(name)

    async def _read(self, name: str, fn: Callable[[CallDeadline], T]) -> T | None:
        """fn(deadline) on a thread of its own, ended by the deadline; on failure an Unknown is recorded and
        None returned."""
        declared = registry.read_named(name)
        source = declared.api.name
        read = ApiRead(source, declared.consequence, self.target.project, self._endpoint(source))
        instant = self.deadline if self.deadline is not None else time.monotonic() + self.api_timeout_s
        deadline = CallDeadline(instant)
        if deadline.left() <= 0:
            self._fail(name, not_started(read))
            return None

        async def bounded() -> T:
            async with self._slots:
                if deadline.left() <= 0:
                    raise ApiUnavailable(not_started(read))
                return await _in_daemon_thread(lambda: call_api(read, fn, deadline))

        try:
            result = await asyncio.wait_for(bounded(), timeout=deadline.left())
        except TimeoutError:
            self._fail(name, timed_out(read, deadline.elapsed()))
            return None
        except ApiUnavailable as failure:
            self._fail(name, failure.unknown)
            return None
        self._answered.add(name)
        return result

    def unknowns(self) -> list[Unknown]:
        """What the reads so far could not check, one entry per API and reason."""
        return merge_unknowns(self._unknowns)

    def read_log(self) -> ReadLog:
        """What this collector's reads so far answered, failed and could not check."""
        return ReadLog(list(self._unknowns), set(self._answered), set(self._failed))

    def absorb(self, log: ReadLog) -> None:
        """Count the reads of `log` (made by another collector of the same target, e.g. in the
        environment process) as this collector's own."""
        self._unknowns.extend(log.unknowns)
        self._answered |= log.answered
        self._failed |= log.failed

    async def services(self) -> list[ServiceEvidence]:
        """Cloud Run services of the target (filtered by the config's list); [] when they cannot be listed."""
        t = self.target
        found = await self._read(
            "services", lambda d: list_services(self.clients.run_services, t.project, t.region, d)
        )
        if found is not None:
            self._unknowns.extend(unlisted_services(t, [s.name for s in found]))
        return [s for s in found or [] if t.services is None or s.name in t.services]

    async def _series(self, signal: Signal) -> Series | None:
        t = self.target
        return await self._read(
            signal.name,
            lambda d: query_series(self.clients.metrics, t.project, t.region, self.now, signal, d),
        )

    async def _load_balancing(self) -> list[BackendServiceEvidence]:
        p = self.target.project
        services, negs = await asyncio.gather(
            self._read(
                "backend_services", lambda d: list_backend_services(self.clients.backend_services, p, d)
            ),
            self._read("negs", lambda d: list_serverless_negs(self.clients.network_endpoint_groups, p, d)),
        )
        if not services:
            return []
        marked = with_serverless_negs(services, negs or {})
        queries = health_queries(marked, negs_known=negs is not None)

        def health_of(query: HealthQuery, deadline: CallDeadline) -> BackendHealth:
            c = self.clients
            return get_backend_health(c.backend_services, c.region_backend_services, p, query, deadline)

        groups = self.clients.instance_groups
        groups_read = (
            asyncio.ensure_future(self._read("instance_groups", lambda d: list_instance_groups(groups, p, d)))
            if needs_instance_groups(marked)
            else None
        )
        answers = await asyncio.gather(
            *(self._read("backend_health", partial(health_of, q)) for q in queries)
        )
        joined = with_health(marked, {q: a for q, a in zip(queries, answers, strict=True) if a is not None})
        if needs_instances(joined):
            found = await self._read("instances", lambda d: list_instances(self.clients.instances, p, d))
            joined = with_instances(joined, found or {})
        read = await groups_read if groups_read is not None else None
        return with_instance_groups(joined, read or {})

    async def _firewall_policies(
        self,
        connectors: asyncio.Task[list[ConnectorEvidence] | None],
        subnets: asyncio.Task[list[SubnetEvidence] | None],
        sql: asyncio.Task[list[SqlInstanceEvidence] | None],
        backends: asyncio.Task[list[BackendServiceEvidence]],
    ) -> list[NetworkPoliciesEvidence]:
        """The firewall policies in effect on every network whose paths with_derived evaluates: where a
        connector may reach a Cloud SQL private IP, and where instances of an unhealthy backend receive
        health-check probes; one read per network, none where no such path exists."""
        c, p, r = self.clients, self.target.project, self.target.region
        found_connectors, found_subnets, found_sql = await connectors, await subnets, await sql
        targets = {i.private_network for i in found_sql or [] if i.private_ip and i.private_network}
        wanted = {
            network
            for connector in found_connectors or []
            if (network := connector_source(connector, found_subnets or [])[0]) in targets
        }
        for service in await backends:
            for backend in service.backends:
                if (backend.unhealthy or 0) > 0:
                    wanted |= {vm.network for vm in backend.instances if vm.network}
        networks = sorted(wanted)

        def read(network: str, deadline: CallDeadline) -> NetworkPoliciesEvidence:
            return read_network_policies(
                c.networks, c.region_network_firewall_policies, p, network, r, deadline
            )

        answers = await asyncio.gather(*(self._read("firewall_policies", partial(read, n)) for n in networks))
        return [a for a in answers if a is not None]

    async def _nats(self) -> list[NatEvidence] | None:
        """The region's Cloud NAT gateways, each with its router's natStatus: one routers.getRouterStatus per
        router that has a gateway, after the routers list (none when no router has NAT)."""
        c, p, r = self.clients, self.target.project, self.target.region
        nats = await self._read("nats", lambda d: list_nats(c.routers, p, r, d))
        if not nats:
            return nats
        routers = routers_with_nat(nats)

        def status_of(router: str, deadline: CallDeadline) -> dict[str, NatStatus]:
            return get_nat_status(c.routers, p, r, router, deadline)

        answers = await asyncio.gather(*(self._read("router_status", partial(status_of, n)) for n in routers))
        read = {n: a for n, a in zip(routers, answers, strict=True) if a is not None}
        return with_nat_status(nats, read)

    async def environment(self) -> EnvironmentEvidence:
        """Every resource list and Monitoring signal of the environment, read concurrently: each independent
        read of the registry on its own, and the reads composed from others."""
        scope = Scope(self.clients, self.target.project, self.target.region, self.now)
        run = asyncio.create_task
        series = [run(self._series(s)) for s in signals.SIGNALS]
        reads = {
            read.name: run(self._read(read.name, partial(fetch, scope)))
            for read, fetch in registry.INDEPENDENT
        }
        nats = run(self._nats())
        backends = run(self._load_balancing())
        policies_in_effect = run(
            self._firewall_policies(
                reads[CONNECTORS.name], reads[SUBNETS.name], reads[SQL_INSTANCES.name], backends
            )
        )
        # Every read is under way; wait for them in any order.
        answered = [await task for task in series]
        found = {}
        for read, _fetch in registry.INDEPENDENT:
            value = await reads[read.name]
            if value is not None:
                found[read.field] = value
        return EnvironmentEvidence(
            found=found,
            nats=await nats or [],
            backend_services=await backends,
            firewall_policies=await policies_in_effect,
            signals={s.name: a for s, a in zip(signals.SIGNALS, answered, strict=True)},
        )

    async def invokers(
        self, services: list[ServiceEvidence], probes: list[ProbeResult]
    ) -> list[InvokerEvidence]:
        """Who may invoke each service whose probe answered 401 or 403 (one getIamPolicy each)."""
        denied = {p.service for p in probes if p.status in (401, 403)}
        client = self.clients.run_services
        answers = await asyncio.gather(
            *(
                self._read("invokers", partial(get_invokers, client, s.resource))
                for s in services
                if s.name in denied
            )
        )
        return [a for a in answers if a is not None]

    def checked(self) -> list[str]:
        """Every read that answered (by its registry or signal name), and every API all of whose reads
        answered (run, vpcaccess, compute, sql, monitoring, iam)."""
        apis = {registry.read_named(name).api.name for name in self._answered}
        apis -= {registry.read_named(name).api.name for name in self._failed}
        return sorted(self._answered | apis)

    def evidence(
        self,
        services: list[ServiceEvidence],
        probes: list[ProbeResult],
        invokers: list[InvokerEvidence],
        env: EnvironmentEvidence,
    ) -> Evidence:
        """The Evidence of this triage: signals joined to their resources, unknowns merged per API."""
        t = self.target
        newest_of = {name: newest(s) if s is not None else None for name, s in env.signals.items()}
        kept = {s.name for s in services}

        def load(service: ServiceEvidence) -> ServiceEvidence:
            summary = join.service_load(
                service.name,
                instances=newest_of[signals.RUN_INSTANCES_ACTIVE.name],
                memory_p99=newest_of[signals.RUN_MEMORY_P99.name],
                latency_p99=newest_of[signals.RUN_LATENCY_P99.name],
                startup_p95=newest_of[signals.RUN_STARTUP_P95.name],
                requests=newest_of[signals.RUN_REQUESTS.name],
                requests_5xx=newest_of[signals.RUN_REQUESTS_5XX.name],
            )
            return service.model_copy(update={"load": summary})

        loaded = [load(s) for s in services]
        found = env.found
        connectors = join.connectors_with_load(
            found.get(CONNECTORS.field, []),
            newest_of[signals.CONNECTOR_CPU_P95.name],
            newest_of[signals.CONNECTOR_INSTANCES_MAX.name],
            env.signals[signals.CONNECTOR_SENT_BYTES_RATE.name],
            env.signals[signals.CONNECTOR_RECEIVED_BYTES_RATE.name],
        )
        nats = join.nats_with_drops(
            env.nats,
            newest_of[signals.NAT_DROPPED_SENT_PACKETS.name],
            newest_of[signals.NAT_ALLOCATION_FAILED.name],
        )
        # Every independent read's answer goes to its field as read; the fields below are joined or filtered.
        return Evidence.model_validate(
            {
                **found,
                "project": t.project,
                "region": t.region,
                "now": self.now,
                "services": loaded,
                "connectors": connectors,
                "probes": probes,
                "unknowns": self.unknowns(),
                "revisions": [r for r in found.get(REVISIONS.field, []) if r.service in kept],
                "invokers": invokers,
                "firewall_policies": env.firewall_policies,
                "nats": join.nats_with_demand(nats, connectors, loaded),
                "sql_instances": join.sql_with_load(
                    found.get(SQL_INSTANCES.field, []),
                    t.project,
                    backends=newest_of[signals.SQL_BACKENDS.name],
                    connections=newest_of[signals.SQL_CONNECTIONS.name],
                    cpu_max=newest_of[signals.SQL_CPU_MAX.name],
                    up_min=newest_of[signals.SQL_UP_MIN.name],
                ),
                "backend_services": env.backend_services,
                "checked": self.checked(),
                "metric_series": join.connector_curves(connectors, env.signals, self.now),
            }
        )


def unlisted_services(target: Target, listed: list[str]) -> list[Unknown]:
    """An Unknown for each service the config names that the project does not have, or one for a project
    and region with no Cloud Run service at all: what a triage was asked to examine and could not."""
    import difflib

    where = f"project {target.project}, region {target.region}"
    if not listed:
        return [
            Unknown(
                source="run",
                reason="NOT_FOUND",
                fix=f"check `project` and `region` of environment {target.environment}: "
                "Cloud Run lists no service there",
                consequence="no service was probed or checked",
                detail=f"no Cloud Run service in {where}",
            )
        ]
    unknowns = []
    for name in target.services or []:
        if name in listed:
            continue
        close = difflib.get_close_matches(name, listed, n=1)
        hint = (
            f" (did you mean {close[0]!r}?)" if close else f" (services there: {', '.join(sorted(listed))})"
        )
        unknowns.append(
            Unknown(
                source="run",
                reason="NOT_FOUND",
                fix=f"correct `services` of environment {target.environment} in the config{hint}",
                consequence=f"service {name} was not probed or checked",
                detail=f"no Cloud Run service {name!r} in {where}",
            )
        )
    return unknowns
