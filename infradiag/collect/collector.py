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
from typing import TypeVar

from infradiag.collect import join, signals
from infradiag.collect.alerting import list_alert_policies
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
    NatStatus,
    get_nat_status,
    list_firewalls,
    list_nats,
    list_subnetworks,
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
    list_health_checks,
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
from infradiag.collect.run import get_invokers, list_revisions, list_services
from infradiag.collect.sql import list_sql_instances
from infradiag.collect.vpcaccess import list_connectors
from infradiag.evidence import (
    AlertPolicyEvidence,
    BackendServiceEvidence,
    ConnectorEvidence,
    Evidence,
    FirewallEvidence,
    HealthCheckEvidence,
    InvokerEvidence,
    NatEvidence,
    NetworkPoliciesEvidence,
    ProbeResult,
    RevisionEvidence,
    ServiceEvidence,
    SqlInstanceEvidence,
    SubnetEvidence,
    Unknown,
)
from infradiag.evidence.reachability import connector_source
from infradiag.target import Target

T = TypeVar("T")

# Reads in flight at once: every list and Monitoring query of an environment fits (about 30).
MAX_READS_IN_FLIGHT = 32

# Every read: its name (in Evidence.checked once it answered), the API it calls (the source of its Unknown
# when it fails) and what its failure leaves unchecked.
READS: dict[str, tuple[str, str]] = {
    "services": ("run", "Cloud Run services could not be listed: URLs, connectors and readiness are unknown"),
    "revisions": (
        "run",
        "revision readiness could not be checked (run.revision_not_ready, traffic_misrouted)",
    ),
    "connectors": ("vpcaccess", "connector state and capacity could not be checked"),
    "firewalls": ("compute", "firewall rules could not be read: whether connectors reach private targets"),
    "subnets": ("compute", "subnet sizes could not be read (vpc.direct_egress_subnet_small)"),
    "firewall_policies": (
        "compute",
        "firewall policies in effect could not be read: whether connectors reach private targets is "
        "undetermined (vpc_connector.firewall_blocked)",
    ),
    "nats": ("compute", "Cloud NAT gateways could not be read (vpc.egress_without_nat)"),
    "router_status": (
        "compute",
        "Cloud Router status could not be read: NAT IPs a MANUAL_ONLY gateway lacks are seen only through "
        "Monitoring (vpc.nat_exhausted)",
    ),
    "backend_services": ("compute", "load balancer backend services could not be read (lb.* causes)"),
    "health_checks": ("compute", "health checks could not be read (lb.health_check_misconfigured)"),
    "negs": ("compute", "NEGs could not be read: serverless backends cannot be told from others"),
    "backend_health": ("compute", "backend health could not be read (lb.backend_unhealthy)"),
    "instance_groups": (
        "compute",
        "instance groups could not be read: which port health checks probe (lb.health_check_misconfigured)",
    ),
    "instances": (
        "compute",
        "backend instances could not be read: whether firewall rules admit health-check probes",
    ),
    "sql_instances": ("sql", "Cloud SQL instances could not be read (sql.* causes)"),
    "alerting": ("monitoring", "alert policies could not be read (monitoring.alert_gap)"),
    "invokers": ("iam", "invoker IAM policies could not be read (run.invoker_denied)"),
}
# Monitoring signals, by the family their name starts with.
SIGNAL_CONSEQUENCES = {
    "connector": "connector load (CPU, instance count, throughput) could not be checked",
    "run": "Cloud Run load (instances, memory, latency, startup, 5xx) could not be checked",
    "sql": "Cloud SQL load (connections, CPU, up) could not be checked",
    "nat": "Cloud NAT drops and allocation failures could not be checked (vpc.nat_exhausted)",
}


def _read_info(name: str) -> tuple[str, str]:
    if name in READS:
        return READS[name]
    return "monitoring", SIGNAL_CONSEQUENCES[name.split("_", 1)[0]]


@dataclass
class EnvironmentEvidence:
    """What the collectors found besides the services themselves."""

    connectors: list[ConnectorEvidence] = field(default_factory=list)
    revisions: list[RevisionEvidence] = field(default_factory=list)
    subnets: list[SubnetEvidence] = field(default_factory=list)
    firewalls: list[FirewallEvidence] = field(default_factory=list)
    nats: list[NatEvidence] = field(default_factory=list)
    sql_instances: list[SqlInstanceEvidence] = field(default_factory=list)
    backend_services: list[BackendServiceEvidence] = field(default_factory=list)
    health_checks: list[HealthCheckEvidence] = field(default_factory=list)
    alert_policies: list[AlertPolicyEvidence] = field(default_factory=list)
    # Per network a connector reaches a private target on; a network whose read failed is missing.
    firewall_policies: list[NetworkPoliciesEvidence] = field(default_factory=list)
    signals: dict[str, Series | None] = field(default_factory=dict)  # None: the query failed


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
        self, target: Target, now: datetime, deadline: float | None = None, api_timeout_s: float = 30.0
    ) -> None:
        self.target = target
        self.now = now
        self.deadline = deadline
        self.api_timeout_s = api_timeout_s
        self.clients = Clients(target.endpoints)
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
        source, consequence = _read_info(name)
        read = ApiRead(source, consequence, self.target.project, self._endpoint(source))
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
        """Every resource list and Monitoring signal of the environment, read concurrently."""
        c, p, r = self.clients, self.target.project, self.target.region
        known_metrics = sorted({s.metric_type for s in signals.SIGNALS})
        run = asyncio.create_task
        series = [run(self._series(s)) for s in signals.SIGNALS]
        connectors = run(self._read("connectors", lambda d: list_connectors(c.vpc_access, p, r, d)))
        revisions = run(self._read("revisions", lambda d: list_revisions(c.run_revisions, p, r, d)))
        firewalls = run(self._read("firewalls", lambda d: list_firewalls(c.firewalls, p, d)))
        subnets = run(self._read("subnets", lambda d: list_subnetworks(c.subnetworks, p, r, d)))
        nats = run(self._nats())
        checks = run(self._read("health_checks", lambda d: list_health_checks(c.health_checks, p, d)))
        sql = run(self._read("sql_instances", lambda d: list_sql_instances(c.sql_instances, p, d)))
        policies = run(
            self._read("alerting", lambda d: list_alert_policies(c.alert_policies, p, known_metrics, d))
        )
        backends = run(self._load_balancing())
        policies_in_effect = run(self._firewall_policies(connectors, subnets, sql, backends))
        # Every read is under way; wait for them in any order.
        answered = [await task for task in series]
        return EnvironmentEvidence(
            connectors=await connectors or [],
            revisions=await revisions or [],
            firewalls=await firewalls or [],
            subnets=await subnets or [],
            nats=await nats or [],
            health_checks=await checks or [],
            sql_instances=await sql or [],
            alert_policies=await policies or [],
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
        """Every read that answered (by its READS or signal name), and every API all of whose reads
        answered (run, vpcaccess, compute, sql, monitoring, iam)."""
        apis = {_read_info(name)[0] for name in self._answered}
        apis -= {_read_info(name)[0] for name in self._failed}
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
        connectors = join.connectors_with_load(
            env.connectors,
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
        return Evidence(
            project=t.project,
            region=t.region,
            now=self.now,
            services=loaded,
            connectors=connectors,
            probes=probes,
            unknowns=self.unknowns(),
            revisions=[r for r in env.revisions if r.service in kept],
            invokers=invokers,
            subnets=env.subnets,
            firewalls=env.firewalls,
            firewall_policies=env.firewall_policies,
            nats=join.nats_with_demand(nats, connectors, loaded),
            sql_instances=join.sql_with_load(
                env.sql_instances,
                t.project,
                backends=newest_of[signals.SQL_BACKENDS.name],
                connections=newest_of[signals.SQL_CONNECTIONS.name],
                cpu_max=newest_of[signals.SQL_CPU_MAX.name],
                up_min=newest_of[signals.SQL_UP_MIN.name],
            ),
            backend_services=env.backend_services,
            health_checks=env.health_checks,
            alert_policies=env.alert_policies,
            checked=self.checked(),
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
