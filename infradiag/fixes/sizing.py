"""Proposed values sized from the evidence: a connector's machine type and instances from its load against
each machine type's documented throughput, and max_connections bounded by what the tier's memory gets.

Functions over the plain data playbooks see (snake_case evidence dicts), registered as playbook helpers.
"""

from __future__ import annotations

import math
import re
from typing import Any

from infradiag.evidence.sql import POSTGRES_DEFAULT_MAX_CONNECTIONS

# https://cloud.google.com/vpc/docs/serverless-vpc-access (docs/gcp-reference.md): throughput over 2-10
# instances is f1-micro 100-500 Mbps, e2-micro 200-1000 Mbps, e2-standard-4 3200-16000 Mbps: per instance,
# smallest machine type first.
CONNECTOR_MBPS_PER_INSTANCE = {"f1-micro": 50.0, "e2-micro": 100.0, "e2-standard-4": 1600.0}
CONNECTOR_MAX_INSTANCES = 10  # maxInstances is 3-10
# A connector is sized so its observed load uses at most this share of the new capacity: room for the load
# to double before it saturates again, since a connector never scales back in.
CONNECTOR_TARGET_SHARE = 0.5


def connector_ceiling_mbps(machine_type: Any, instances: Any) -> float:
    """The documented throughput of `instances` instances of `machine_type`; 0.0 for an unknown type."""
    return CONNECTOR_MBPS_PER_INSTANCE.get(str(machine_type), 0.0) * float(instances)


def _mbps(value: float) -> str:
    return f"{value:.0f} Mbps"


def connector_sizing(connector: Any) -> dict[str, Any]:
    """The machine type and max instances a saturated connector needs, from its evidence.

    Its load is the larger of its peak throughput and its capacity times its CPU p95; the proposal is the
    smallest machine type (no smaller than the current one), then the fewest instances (no fewer than the
    current maxInstances: it only goes up in place), whose documented throughput carries that load at
    CONNECTOR_TARGET_SHARE, and always more than the current capacity. Without load evidence, max instances
    go to 10, then the machine type one size up. Returns `machine_type`, `max_instances`, `why_machine_type`,
    `why_max_instances`, and `note` (what to do when the connector is already the largest there is)."""
    types = list(CONNECTOR_MBPS_PER_INSTANCE)
    machine = str(connector.get("machine_type", "e2-micro"))
    current_max = connector.get("max_instances")
    sizing: dict[str, Any] = {"machine_type": machine, "max_instances": current_max}
    largest = f"{CONNECTOR_MAX_INSTANCES} x {types[-1]}"
    sizing["note"] = (
        f"{connector['name']} is already the largest a connector can be ({largest}, "
        f"{_mbps(connector_ceiling_mbps(types[-1], CONNECTOR_MAX_INSTANCES))}): move the services with the "
        "most traffic to Direct VPC egress, or spread them over more connectors"
    )
    if machine not in CONNECTOR_MBPS_PER_INSTANCE or current_max is None:
        sizing["note"] = (
            f"{connector['name']} has machine type {machine} and maxInstances "
            f"{'not set' if current_max is None else current_max}: look up its instances and throughput "
            "settings (gcloud compute networks vpc-access connectors describe) before sizing it"
        )
        sizing["why_machine_type"] = sizing["why_max_instances"] = "unchanged"
        return sizing
    capacity = connector_ceiling_mbps(machine, current_max)
    now = f"{current_max} x {machine} ({_mbps(capacity)})"
    loads = []
    if connector.get("throughput_mbps") is not None:
        load = float(connector["throughput_mbps"])
        loads.append((load, f"peak throughput {_mbps(load)} on {now}"))
    if connector.get("cpu_p95") is not None:
        load = capacity * float(connector["cpu_p95"])
        loads.append(
            (load, f"CPU p95 {connector['cpu_p95'] * 100:.1f} % of {now} is a load of {_mbps(load)}")
        )
    candidates = [
        (kind, count)
        for kind in types[types.index(machine) :]
        for count in range(max(int(current_max), 3), CONNECTOR_MAX_INSTANCES + 1)
        if connector_ceiling_mbps(kind, count) > capacity
    ]
    candidates.sort(key=lambda c: (types.index(c[0]), c[1]))
    if not candidates:
        sizing["why_machine_type"] = sizing["why_max_instances"] = "already the largest"
        return sizing
    if loads:
        load, seen = max(loads)
        needed = load / CONNECTOR_TARGET_SHARE
        fitting = [c for c in candidates if connector_ceiling_mbps(*c) >= needed]
        kind, count = fitting[0] if fitting else (types[-1], CONNECTOR_MAX_INSTANCES)
        reason = (
            f"{seen}; carrying it at {CONNECTOR_TARGET_SHARE * 100:.0f} % takes {_mbps(needed)}: "
            f"{count} x {kind} = {_mbps(connector_ceiling_mbps(kind, count))}"
        )
        if not fitting:
            reason += f", the most a connector has; {sizing['note']}"
    else:
        more = current_max < CONNECTOR_MAX_INSTANCES
        kind, count = (machine, CONNECTOR_MAX_INSTANCES) if more else candidates[0]
        reason = (
            f"no throughput or CPU measured on {now}: {count} x {kind} = "
            f"{_mbps(connector_ceiling_mbps(kind, count))}, the next size up"
        )
    sizing.update(machine_type=kind, max_instances=count)
    sizing["why_max_instances"] = reason if count != current_max else "unchanged"
    sizing["why_machine_type"] = (
        f"{reason} ({CONNECTOR_MBPS_PER_INSTANCE[kind]:.0f} Mbps per instance instead of "
        f"{CONNECTOR_MBPS_PER_INSTANCE[machine]:.0f})"
        if kind != machine
        else "unchanged"
    )
    return sizing


def _memory_for(connections: int) -> tuple[float, int] | None:
    """The least memory (GB) whose PostgreSQL default max_connections reaches `connections`, with it."""
    return next(((gb, limit) for gb, limit in POSTGRES_DEFAULT_MAX_CONNECTIONS if limit >= connections), None)


_CUSTOM_TIER = re.compile(r"^db-custom-(\d+)-(\d+)$")  # db-custom-CPUS-MEMORY_MB
# https://cloud.google.com/sql/docs/postgres/instance-settings: a custom machine type has 1 or an even number
# of vCPUs and 0.9 to 6.5 GB of memory per vCPU, in multiples of 256 MB, and at least 3.75 GB.
_MB_STEP = 256
_GB_PER_VCPU = (0.9, 6.5)
_MIN_CUSTOM_GB = 3.75


def _up_to_step(mb: float) -> int:
    return math.ceil(mb / _MB_STEP) * _MB_STEP


def custom_tier(tier: str, memory_gb: float) -> str | None:
    """The custom tier with the vCPUs of `tier` (more when the memory needs them) and at least `memory_gb`,
    as Cloud SQL allows it; None when `tier` is not a custom tier."""
    match = _CUSTOM_TIER.match(tier)
    if match is None:
        return None
    cpus = int(match.group(1))
    mb = _up_to_step(max(memory_gb, _MIN_CUSTOM_GB) * 1024)
    while mb > _GB_PER_VCPU[1] * 1024 * cpus:
        cpus = 2 if cpus == 1 else cpus + 2
    mb = max(mb, _up_to_step(_GB_PER_VCPU[0] * 1024 * cpus))
    return f"db-custom-{cpus}-{mb}"


def max_connections_sizing(db: Any, warning: Any) -> dict[str, Any]:
    """How an instance out of connections gets room for its observed peak (under the `warning` share), from
    its evidence, never past Google's default max_connections for the memory it has (more risks running it
    out of memory): the max_connections flag raised while it is below that default; else a custom tier with
    the memory whose default fits the peak (the flag raised with it when one is set). Returns `proposed` (the
    flag's value), `flags` (every database flag, max_connections set to `proposed`: patching flags replaces
    them all), `tier`, `why`, `why_tier`, `summary`, and `note` (what to do when neither can go up)."""
    current = int(db["max_connections"])
    peak = float(db.get("connections_max", current))
    # Strictly under the share: the playbook holds an instance at or over it (peak / max >= warning).
    needed = math.floor(peak / float(warning)) + 1
    while peak >= float(warning) * needed:
        needed += 1
    ceiling = db.get("default_max_connections")
    memory = f"tier {db['tier']}" + (f", {db['memory_gb']:.2f} GB" if db.get("memory_gb") is not None else "")
    share = f"{float(warning) * 100:.0f} %"
    sizing: dict[str, Any] = {
        "proposed": current,
        "tier": db["tier"],
        "why": "unchanged",
        "why_tier": "unchanged",
    }
    sizing["summary"] = sizing["note"] = (
        f"look up the max_connections Cloud SQL allows for {db['name']} ({memory}, {db['engine']}) in "
        f"Google's flag reference before raising it above {current}; or pool connections so the peak of "
        f"{peak:.0f} fits"
    )
    flag_set = db.get("max_connections_source") == "flag"
    if ceiling is not None and current < ceiling:
        proposed = min(needed, int(ceiling))
        sizing["proposed"] = proposed
        sizing["why"] = f"peak {peak:.0f} connections stays under {share} with {needed}; " + (
            f"capped at {ceiling}, Google's default for its memory ({memory})"
            if needed > ceiling
            else f"within {ceiling}, Google's default for its memory ({memory})"
        )
        sizing["summary"] = f"Raise max_connections of {db['name']} from {current} to {proposed}"
        sizing["note"] = ""
    elif ceiling is not None:
        bigger = _memory_for(needed)
        tier = custom_tier(str(db["tier"]), bigger[0]) if bigger else None
        if bigger is None or tier is None:
            sizing["summary"] = sizing["note"] = (
                f"max_connections of {db['name']} is {current}, Google's default for its memory ({memory}): "
                "more connections risk running it out of memory. Pool connections (fewer per Cloud Run "
                "instance)"
                + (
                    f", or move it to a tier with at least {bigger[0]:g} GB, whose default is {bigger[1]}"
                    if bigger
                    else ""
                )
            )
        else:
            sizing["tier"] = tier
            sizing["why_tier"] = (
                f"peak {peak:.0f} connections stays under {share} with {needed}; {current} is Google's "
                f"default max_connections for {memory}, {bigger[1]} for {bigger[0]:g} GB"
            )
            if flag_set:
                sizing["proposed"] = min(needed, bigger[1])
                sizing["why"] = (
                    f"raised with the tier: within {bigger[1]}, Google's default for {bigger[0]:g} GB"
                )
            sizing["note"] = ""
            sizing["summary"] = (
                f"Move {db['name']} to tier {tier} ({bigger[0]:g} GB: Google's default max_connections "
                f"{bigger[1]}), or pool connections so the peak of {peak:.0f} fits in {current}"
            )
    flags = [dict(f) for f in db.get("database_flags", [])]
    value = str(sizing["proposed"])
    if any(f["name"] == "max_connections" for f in flags):
        flags = [{**f, "value": value} if f["name"] == "max_connections" else f for f in flags]
    elif sizing["proposed"] != current:
        flags.append({"name": "max_connections", "value": value})
    sizing["flags"] = flags
    return sizing


# A database is given the vCPUs for its observed CPU peak to use at most this share of them: room for the
# load to double before it saturates again.
SQL_CPU_TARGET_SHARE = 0.5
_MAX_CUSTOM_VCPUS = 96


def _valid_vcpus(count: int) -> int:
    """The least vCPU count a custom tier allows (1 or an even number) at or above `count`."""
    return 1 if count <= 1 else count + count % 2


def sql_cpu_sizing(db: Any) -> dict[str, Any]:
    """The custom tier a CPU-saturated instance needs, from its evidence: enough vCPUs for its CPU peak to
    use at most SQL_CPU_TARGET_SHARE of them (always more than now), its memory kept (raised only to the
    least Cloud SQL allows for those vCPUs). Returns `tier` (the current one when it cannot say), `why`,
    `summary`, and `note` (what to look up for a tier that is not custom)."""
    tier = str(db["tier"])
    peak = float(db["cpu_max"])
    sizing: dict[str, Any] = {"tier": tier, "why": "unchanged"}
    match = _CUSTOM_TIER.match(tier)
    if match is None:
        sizing["summary"] = sizing["note"] = (
            f"Give {db['name']} more vCPUs: its CPU peaks at {peak * 100:.1f} % of tier {tier}; pick a tier "
            f"with at least {1 / SQL_CPU_TARGET_SHARE * peak:.1f} times its vCPUs (Google's machine series "
            "list them), and look for expensive queries (Query Insights)"
        )
        return sizing
    cpus, mb = int(match.group(1)), int(match.group(2))
    wanted = max(math.ceil(cpus * peak / SQL_CPU_TARGET_SHARE), cpus + 1)
    new = min(_valid_vcpus(wanted), _MAX_CUSTOM_VCPUS)
    if new <= cpus:
        sizing["summary"] = sizing["note"] = (
            f"{db['name']} already has {cpus} vCPUs, the most a custom tier has: look for expensive queries "
            "(Query Insights) or spread reads over read replicas"
        )
        return sizing
    new_mb = max(mb, _up_to_step(_GB_PER_VCPU[0] * 1024 * new))
    sizing["tier"] = f"db-custom-{new}-{new_mb}"
    sizing["why"] = (
        f"CPU peaks at {peak * 100:.1f} % of {cpus} vCPU{'s' if cpus > 1 else ''}; {new} carry that at "
        f"{cpus * peak / new * 100:.0f} % (at most {SQL_CPU_TARGET_SHARE * 100:.0f} % wanted), memory "
        + (
            f"kept at {mb} MB"
            if new_mb == mb
            else f"raised from {mb} to {new_mb} MB, the least {new} vCPUs take"
        )
    )
    sizing["summary"] = (
        f"Give {db['name']} {new} vCPUs (tier {sizing['tier']}), and look for expensive queries "
        "(Query Insights)"
    )
    sizing["note"] = ""
    return sizing


# Cloud Run's maxInstanceCount when a service sets none (https://cloud.google.com/run/docs/configuring/
# max-instances), and the factor max instances go up by when nothing else bounds them: a service at its
# limit sheds the requests past it (429), so how much more it needs is not measured; doubling is a step the
# next triage can check.
RUN_DEFAULT_MAX_INSTANCES = 100
RUN_MAX_INSTANCES_STEP = 2


def _databases_of(service: Any, sql_instances: Any, connectors: Any) -> list[dict[str, Any]]:
    """The Cloud SQL instances `service` reaches: by the Cloud SQL connector, or over a private IP on the
    network of its VPC connector or Direct VPC egress."""
    networks = {service.get("direct_egress_network")}
    networks |= {c.get("network") for c in connectors or [] if c.get("resource") == service.get("connector")}
    networks.discard(None)
    return [
        dict(db)
        for db in sql_instances or []
        if db.get("connection_name") in (service.get("cloudsql_instances") or [])
        or (db.get("private_network") is not None and db.get("private_network") in networks)
    ]


def run_max_instances_sizing(
    service: Any, sql_instances: Any, connectors: Any, warning: Any
) -> dict[str, Any]:
    """The max instances a service at its limit gets: RUN_MAX_INSTANCES_STEP times its current ones, bounded
    by the connection headroom of every database it reaches (the connections left below `warning` of
    max_connections, divided by the connections one of its instances holds at the peak: the database's
    peak over the service's active instances, as if they were all its own). Returns `current` (None when not
    set), `proposed`, `why`, and `note` (what to do first when no database has room)."""
    current = service.get("max_instances")
    base = int(current) if current is not None else RUN_DEFAULT_MAX_INSTANCES
    named = f"maxInstanceCount {base}" if current is not None else f"Cloud Run's default of {base}"
    active = (service.get("load") or {}).get("instances_active_max")
    proposed = base * RUN_MAX_INSTANCES_STEP
    reasons = [f"{named} in use" + (f" (active max {active:.0f})" if active else "")]
    reasons.append(f"{RUN_MAX_INSTANCES_STEP} x {base} = {proposed}")
    sizing: dict[str, Any] = {"current": current, "proposed": proposed, "note": ""}
    for db in _databases_of(service, sql_instances, connectors):
        limit, peak = db.get("max_connections"), db.get("connections_max")
        if limit is None or peak is None or not active:
            reasons.append(
                f"{db['name']} is behind it but its max_connections or connection peak is unknown: check "
                "that it takes the connections of the new instances"
            )
            continue
        per_instance = float(peak) / float(active)
        room = math.floor(float(limit) * float(warning)) - float(peak)
        extra = math.floor(room / per_instance) if per_instance > 0 else proposed - base
        bound = base + max(extra, 0)
        reasons.append(
            f"{db['name']} has room for {max(room, 0):.0f} more connections below "
            f"{float(warning) * 100:.0f} % of max_connections {limit} (peak {float(peak):.0f}); at "
            f"{per_instance:.1f} per instance that is {max(extra, 0)} more instances"
        )
        if bound < proposed:
            proposed = bound
    if proposed <= base:
        sizing["proposed"] = current
        sizing["why"] = "unchanged"
        sizing["note"] = (
            f"Do not raise max instances of {service['name']} yet: " + "; ".join(reasons[2:]) + ". Give the "
            "database room first (its max_connections or tier), or pool connections, then raise them"
        )
        return sizing
    sizing["proposed"] = proposed
    sizing["why"] = "; ".join(reasons) + (
        f": {proposed}" if proposed != base * RUN_MAX_INSTANCES_STEP else ""
    )
    return sizing
