"""Joins Monitoring signals to the resources they describe: pure functions over plain evidence.

A signal whose query failed is passed as None, and leaves its fields None (unknown). A signal that answered
without data for a resource leaves the field None too, except for counts where no series means nothing was
counted (5xx requests of a service that served requests, Cloud NAT drops): those read 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from infradiag.collect.compute import with_port_demand
from infradiag.collect.monitoring import Group, Signal, peak_of_sum, sum_by_time
from infradiag.collect.signals import (
    CONNECTOR_CPU_P95_PER_MINUTE,
    CONNECTOR_INSTANCES_MAX_PER_MINUTE,
    CONNECTOR_RECEIVED_BYTES_RATE,
    CONNECTOR_SENT_BYTES_RATE,
)
from infradiag.collect.sql import database_id
from infradiag.evidence import (
    ConnectorEvidence,
    MetricSeries,
    NatEvidence,
    ServiceEvidence,
    ServiceLoadEvidence,
    SqlInstanceEvidence,
)
from infradiag.fixes.sizing import connector_ceiling_mbps

Values = Mapping[Group, float]
Points = Mapping[Group, Mapping[datetime, float]]
BITS_PER_BYTE = 8


def _get(values: Values | None, key: str) -> float | None:
    return None if values is None else values.get((key,))


def connectors_with_load(
    connectors: list[ConnectorEvidence],
    cpu_p95: Values | None,
    instances_max: Values | None,
    sent_rate: Points | None,
    received_rate: Points | None,
) -> list[ConnectorEvidence]:
    """Connectors with CPU p95, peak instance count and peak throughput (sent + received, the busiest
    minute of the window, in Mbps) joined by connector name."""
    throughput = None
    if sent_rate is not None and received_rate is not None:
        throughput = peak_of_sum(sent_rate, received_rate)
    loaded = []
    for connector in connectors:
        instances = _get(instances_max, connector.name)
        peak = _get(throughput, connector.name)
        loaded.append(
            connector.model_copy(
                update={
                    "cpu_p95": _get(cpu_p95, connector.name),
                    "instances_max": int(instances) if instances is not None else None,
                    "throughput_mbps": peak * BITS_PER_BYTE / 1e6 if peak is not None else None,
                }
            )
        )
    return loaded


def connector_series(
    connectors: list[ConnectorEvidence],
    signal: Signal,
    aggregation: str,
    points: Points | None,
    now: datetime,
    limit: Callable[[ConnectorEvidence], float | None] | None = None,
) -> list[MetricSeries]:
    """Per connector with points, its series of `signal` oldest first, joined by connector name: the signal's
    metric type, its window ending at `now` and a point per its alignment period, with the connector's own
    `limit` on it when one is given (its maxInstances for the instance count)."""
    found = []
    for connector in connectors:
        by_time = (points or {}).get((connector.name,))
        if by_time:
            found.append(
                MetricSeries(
                    metric=signal.metric_type,
                    resource=connector.resource,
                    aggregation=aggregation,
                    start=now - signal.window,
                    end=now,
                    period_s=int(signal.alignment_period.total_seconds()),
                    points=[by_time[t] for t in sorted(by_time)],
                    limit=limit(connector) if limit is not None else None,
                )
            )
    return found


def _throughput_ceiling_mbps(connector: ConnectorEvidence) -> float | None:
    # None when the connector's size or machine type is unknown: no ceiling to draw.
    if not connector.max_instances:
        return None
    return connector_ceiling_mbps(connector.machine_type, connector.max_instances) or None


def connector_throughput_series(
    connectors: list[ConnectorEvidence], sent_rate: Points | None, received_rate: Points | None, now: datetime
) -> list[MetricSeries]:
    """Per connector, sent + received in Mbps per minute (the curve of `throughput_mbps`, its busiest
    minute), oldest first, over the window of CONNECTOR_SENT_BYTES_RATE ending at `now`; its limit is the
    documented throughput of its machine type at maxInstances, the ceiling the playbook compares it with. Both
    rates must have been read: one alone would draw half."""
    if sent_rate is None or received_rate is None:
        return []
    mbps = {
        group: {time: value * BITS_PER_BYTE / 1e6 for time, value in by_time.items()}
        for group, by_time in sum_by_time(sent_rate, received_rate).items()
    }
    return connector_series(
        connectors,
        CONNECTOR_SENT_BYTES_RATE,
        "sent + received Mbps per minute",
        mbps,
        now,
        limit=_throughput_ceiling_mbps,
    )


# The per-minute curves drawn next to a connector's figures, besides its throughput: the signal, how each
# point summarises its minute, and the connector's own limit on it.
_CONNECTOR_CURVES: tuple[tuple[Signal, str, Callable[[ConnectorEvidence], float | None] | None], ...] = (
    (CONNECTOR_CPU_P95_PER_MINUTE, "p95 per minute", None),
    (CONNECTOR_INSTANCES_MAX_PER_MINUTE, "max per minute", lambda connector: connector.max_instances),
)


def connector_curves(
    connectors: list[ConnectorEvidence], answered: Mapping[str, Points | None], now: datetime
) -> list[MetricSeries]:
    """Every connector's per-minute series the report can draw, from the signals `answered` (by signal name;
    None: the query failed): CPU p95, then instance count against maxInstances, then throughput against its
    ceiling, each for every connector with points, in the order of `connectors`."""
    curves = [
        series
        for signal, aggregation, limit in _CONNECTOR_CURVES
        for series in connector_series(connectors, signal, aggregation, answered[signal.name], now, limit)
    ]
    return curves + connector_throughput_series(
        connectors,
        answered[CONNECTOR_SENT_BYTES_RATE.name],
        answered[CONNECTOR_RECEIVED_BYTES_RATE.name],
        now,
    )


def service_load(
    name: str,
    instances: Values | None,
    memory_p99: Values | None,
    latency_p99: Values | None,
    startup_p95: Values | None,
    requests: Values | None,
    requests_5xx: Values | None,
) -> ServiceLoadEvidence:
    """One Cloud Run service's load over the window, by service name."""
    total = _get(requests, name)
    errors = _get(requests_5xx, name)
    if errors is None and requests_5xx is not None and total is not None:
        errors = 0.0
    return ServiceLoadEvidence(
        instances_active_max=_get(instances, name),
        memory_p99=_get(memory_p99, name),
        latency_p99_ms=_get(latency_p99, name),
        startup_p95_ms=_get(startup_p95, name),
        requests_5xx=errors,
        requests_total=total,
    )


# Values of the `reason` label of router.googleapis.com/nat/dropped_sent_packets_count
# (https://cloud.google.com/monitoring/api/metrics_gcp, router).
OUT_OF_RESOURCES = "OUT_OF_RESOURCES"
ENDPOINT_INDEPENDENCE_CONFLICT = "ENDPOINT_INDEPENDENCE_CONFLICT"


def nats_with_drops(
    nats: list[NatEvidence], dropped_by_reason: Values | None, allocation_failures: Values | None
) -> list[NatEvidence]:
    """NAT gateways with their dropped sent packets per reason (values keyed by (gateway, reason)) and
    allocation failures (keyed by gateway) over the window. A query that answered without a series for a
    gateway and reason counted nothing: 0; a failed query leaves the fields None."""

    def drops(nat: NatEvidence, reason: str) -> float | None:
        if dropped_by_reason is None:
            return None
        return dropped_by_reason.get((nat.name, reason), 0.0)

    joined = []
    for nat in nats:
        failures = _get(allocation_failures, nat.name)
        joined.append(
            nat.model_copy(
                update={
                    "dropped_out_of_resources": drops(nat, OUT_OF_RESOURCES),
                    "dropped_endpoint_independence_conflict": drops(nat, ENDPOINT_INDEPENDENCE_CONFLICT),
                    "allocation_failed": (failures or 0.0) > 0 if allocation_failures is not None else None,
                }
            )
        )
    return joined


def _covers(nat: NatEvidence, connector: ConnectorEvidence) -> bool:
    # A gateway serves a connector of its network and region whose range is in a subnet it translates:
    # every subnet for ALL_SUBNETWORKS_*, else the listed ones (a connector on an ipCidrRange has a subnet
    # of its own, covered only by ALL_SUBNETWORKS_*).
    same_place = connector.network == nat.network and connector.region == nat.region
    return same_place and (
        nat.all_subnets or (connector.subnet is not None and connector.subnet in nat.subnets)
    )


def nats_with_demand(
    nats: list[NatEvidence], connectors: list[ConnectorEvidence], services: list[ServiceEvidence]
) -> list[NatEvidence]:
    """NAT gateways with the VMs that take ports from them: each covered connector's instances (the most
    seen over the window, else its minimum) and the active instances of Cloud Run services with Direct VPC
    egress into the gateway's network."""
    joined = []
    for nat in nats:
        users: list[str] = []
        counts: list[int] = []
        for connector in connectors:
            if not _covers(nat, connector):
                continue
            count = (
                connector.instances_max if connector.instances_max is not None else connector.min_instances
            )
            users.append(f"connector {connector.name}: {count if count is not None else 'unknown'} instances")
            if count is not None:
                counts.append(count)
        for service in services:
            if service.direct_egress_network != nat.network:
                continue
            active = service.load.instances_active_max
            shown = int(active) if active is not None else "unknown"
            users.append(f"service {service.name} (Direct VPC egress): {shown} instances")
            if active is not None:
                counts.append(int(active))
        joined.append(with_port_demand(nat, users, sum(counts) if counts else None))
    return joined


def sql_with_load(
    instances: list[SqlInstanceEvidence],
    project: str,
    backends: Values | None,
    connections: Values | None,
    cpu_max: Values | None,
    up_min: Values | None,
) -> list[SqlInstanceEvidence]:
    """Cloud SQL instances with their connections (PostgreSQL: num_backends summed over databases; MySQL and
    SQL Server: network/connections), CPU and up, by database_id "project:instance"."""
    joined = []
    for instance in instances:
        key = database_id(project, instance.name)
        used = _get(backends if instance.engine == "POSTGRES" else connections, key)
        joined.append(
            instance.model_copy(
                update={"connections_max": used, "cpu_max": _get(cpu_max, key), "up_min": _get(up_min, key)}
            )
        )
    return joined
