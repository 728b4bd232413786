"""Cloud SQL Admin API (v1beta4, the version whose library has a REST transport): instances as evidence.

v1beta4 and v1 describe the same DatabaseInstance. Connection limits come from the `max_connections` flag,
else from Google's PostgreSQL default for the instance's memory.
"""

from __future__ import annotations

import re
from typing import Any

from infradiag.collect.calls import Timeout
from infradiag.collect.compute import short
from infradiag.evidence import SqlInstanceEvidence

# https://cloud.google.com/sql/docs/postgres/flags#postgres-m: the default max_connections of Cloud SQL for
# PostgreSQL by instance memory (GB): the largest threshold at or below the memory applies.
POSTGRES_DEFAULT_MAX_CONNECTIONS = (
    (0.6, 25),
    (1.7, 50),
    (3.75, 100),
    (6.0, 200),
    (7.5, 400),
    (15.0, 500),
    (30.0, 600),
    (60.0, 800),
    (120.0, 1000),
)
# https://cloud.google.com/sql/docs/postgres/machine-series-overview (and the MySQL page): memory of the
# shared-core tiers, and per vCPU of the legacy and Enterprise Plus machine types.
_SHARED_CORE_GB = {"db-f1-micro": 0.6, "db-g1-small": 1.7}
_PER_VCPU_GB = {"db-n1-standard": 3.75, "db-n1-highmem": 6.5, "db-perf-optimized-N": 8.0}
_CUSTOM = re.compile(r"^db-custom-(\d+)-(\d+)$")  # db-custom-CPUS-MEMORY_MB
_PER_VCPU = re.compile(r"^(db-n1-standard|db-n1-highmem|db-perf-optimized-N)-(\d+)$")
# Default ports by engine.
_PORTS = {"POSTGRES": 5432, "MYSQL": 3306, "SQLSERVER": 1433}


def list_sql_instances(client: Any, project: str, timeout: Timeout) -> list[SqlInstanceEvidence]:
    """Every Cloud SQL instance of the project, in every region (one paginated list call)."""
    pager = client.list(request={"project": project}, timeout=timeout, retry=None)
    # The generated ListPager iterates each page's `warnings`, not its `items`: walk the pages instead.
    return [sql_instance_evidence(instance, project) for page in pager.pages for instance in page.items]


def tier_memory_gb(tier: str) -> float | None:
    """The memory of a Cloud SQL tier in GB, or None for a tier this table does not know."""
    if tier in _SHARED_CORE_GB:
        return _SHARED_CORE_GB[tier]
    custom = _CUSTOM.match(tier)
    if custom:
        return int(custom.group(2)) / 1024
    per_vcpu = _PER_VCPU.match(tier)
    if per_vcpu:
        return _PER_VCPU_GB[per_vcpu.group(1)] * int(per_vcpu.group(2))
    return None


def default_max_connections(engine: str, memory_gb: float | None) -> int | None:
    """Google's default max_connections for PostgreSQL at this memory; None for other engines or unknown
    memory."""
    if engine != "POSTGRES" or memory_gb is None:
        return None
    fitting = [
        limit for threshold, limit in POSTGRES_DEFAULT_MAX_CONNECTIONS if threshold <= memory_gb + 1e-9
    ]
    return fitting[-1] if fitting else None


def _flag(instance: Any, name: str) -> str | None:
    for flag in instance.settings.database_flags:
        if flag.name == name:
            return str(flag.value)
    return None


def sql_instance_evidence(instance: Any, project: str) -> SqlInstanceEvidence:
    """One sqladmin_v1beta4.DatabaseInstance as evidence."""
    version = instance.database_version.name
    engine = version.split("_", 1)[0]
    tier = instance.settings.tier
    memory = tier_memory_gb(tier)
    flag = _flag(instance, "max_connections")
    max_connections: int | None = int(flag) if flag is not None and flag.isdigit() else None
    source: str | None = "flag" if max_connections is not None else None
    if max_connections is None:
        max_connections = default_max_connections(engine, memory)
        source = "tier default" if max_connections is not None else None
    private_ip = next((a.ip_address for a in instance.ip_addresses if a.type_.name == "PRIVATE"), None)
    network = instance.settings.ip_configuration.private_network
    return SqlInstanceEvidence(
        name=instance.name,
        resource=f"projects/{project}/instances/{instance.name}",
        connection_name=instance.connection_name or f"{project}:{instance.region}:{instance.name}",
        region=instance.region,
        state=instance.state.name,
        engine=engine,
        database_version=version,
        tier=tier,
        memory_gb=memory,
        max_connections=max_connections,
        max_connections_source=source,
        private_ip=private_ip,
        private_network=short(network) if network else None,
        port=_PORTS.get(engine, 5432),
    )


def database_id(project: str, instance: str) -> str:
    """The cloudsql_database resource label `database_id` of an instance: "project:instance"."""
    return f"{project}:{instance}"
