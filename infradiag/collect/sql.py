"""Cloud SQL Admin API (v1beta4, the version whose library has a REST transport): instances as evidence.

v1beta4 and v1 describe the same DatabaseInstance
(https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances). Connection limits come from the
`max_connections` flag, else from Google's PostgreSQL default for the instance's own memory (a read replica's
tier, not its primary's).
"""

from __future__ import annotations

import re
from typing import Any

from infradiag.collect.api import SQL, Read, Route
from infradiag.collect.calls import Timeout
from infradiag.collect.compute import short
from infradiag.evidence import SqlInstanceEvidence
from infradiag.evidence.sql import POSTGRES_DEFAULT_MAX_CONNECTIONS, DatabaseFlag

# https://cloud.google.com/sql/docs/postgres/machine-series-overview (and the MySQL page): memory of the
# shared-core tiers, and per vCPU of the legacy and Enterprise Plus machine types.
_SHARED_CORE_GB = {"db-f1-micro": 0.6, "db-g1-small": 1.7}
_PER_VCPU_GB = {"db-n1-standard": 3.75, "db-n1-highmem": 6.5, "db-perf-optimized-N": 8.0}
_CUSTOM = re.compile(r"^db-custom-(\d+)-(\d+)$")  # db-custom-CPUS-MEMORY_MB
_PER_VCPU = re.compile(r"^(db-n1-standard|db-n1-highmem|db-perf-optimized-N)-(\d+)$")
# Default ports by engine.
_PORTS = {"POSTGRES": 5432, "MYSQL": 3306, "SQLSERVER": 1433}
# settings.maintenanceWindow.day: "Returned in output as an integer, 1 to 7, where 1 equals Monday"; hour is
# 0-23 UTC (https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances#MaintenanceWindow).
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

SQL_INSTANCES = Read(
    "sql_instances",
    SQL,
    "sql.instances.list",
    paginated=True,
    consequence="Cloud SQL instances could not be read (sql.* causes)",
    field="sql_instances",
    route=Route("GET", "/sql/v1beta4/projects/{project}/instances"),
    fetch=lambda s, d: list_sql_instances(s.clients.sql_instances, s.project, d),
)
READS = (SQL_INSTANCES,)


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


def _enum_name(value: Any) -> str | None:
    """The name of an enum the API set; None for the UNSPECIFIED zero (the field was left out)."""
    name = getattr(value, "name", None)
    if name is None or name.endswith("_UNSPECIFIED"):
        return None
    return str(name)


def maintenance_window(instance: Any) -> str | None:
    """settings.maintenanceWindow as "Sunday 03:00 UTC"; None when no day is set (Google picks the time)."""
    if "maintenance_window" not in instance.settings:
        return None
    window = instance.settings.maintenance_window
    day = int(window.day or 0)
    if not 1 <= day <= 7:
        return None
    return f"{_WEEKDAYS[day - 1]} {int(window.hour or 0):02d}:00 UTC"


def sql_instance_evidence(instance: Any, project: str) -> SqlInstanceEvidence:
    """One sqladmin_v1beta4.DatabaseInstance as evidence: every field the playbooks read, as written."""
    version = instance.database_version.name
    engine = version.split("_", 1)[0]
    tier = instance.settings.tier
    memory = tier_memory_gb(tier)
    flag = _flag(instance, "max_connections")
    max_connections: int | None = int(flag) if flag is not None and flag.isdigit() else None
    source: str | None = "flag" if max_connections is not None else None
    default = default_max_connections(engine, memory)
    if max_connections is None:
        max_connections = default
        source = "tier default" if max_connections is not None else None
    private_ip = next((a.ip_address for a in instance.ip_addresses if a.type_.name == "PRIVATE"), None)
    network = instance.settings.ip_configuration.private_network
    # masterInstanceName is "the name of the instance which will act as primary"; real replicas of another
    # project's primary write it as PROJECT:INSTANCE, so keep the part after the last colon.
    master = instance.master_instance_name.rsplit(":", 1)[-1] or None
    reasons = [name for name in (_enum_name(r) for r in instance.suspension_reason) if name]
    maintenance = instance.scheduled_maintenance.start_time if "scheduled_maintenance" in instance else None
    return SqlInstanceEvidence(
        name=instance.name,
        resource=f"projects/{project}/instances/{instance.name}",
        connection_name=instance.connection_name or f"{project}:{instance.region}:{instance.name}",
        region=instance.region,
        state=instance.state.name,
        engine=engine,
        database_version=version,
        tier=tier,
        instance_type=_enum_name(instance.instance_type),
        master_instance=master,
        activation_policy=_enum_name(instance.settings.activation_policy),
        suspension_reasons=reasons,
        kms_key=instance.disk_encryption_configuration.kms_key_name or None,
        kms_key_version=instance.disk_encryption_status.kms_key_version_name or None,
        maintenance_window=maintenance_window(instance),
        scheduled_maintenance=maintenance.isoformat().replace("+00:00", "Z") if maintenance else None,
        memory_gb=memory,
        max_connections=max_connections,
        max_connections_source=source,
        default_max_connections=default,
        database_flags=[
            DatabaseFlag(name=f.name, value=f.value or None) for f in instance.settings.database_flags
        ],
        private_ip=private_ip,
        private_network=short(network) if network else None,
        allocated_ip_range=instance.settings.ip_configuration.allocated_ip_range or None,
        port=_PORTS.get(engine, 5432),
    )


def database_id(project: str, instance: str) -> str:
    """The cloudsql_database resource label `database_id` of an instance: "project:instance"."""
    return f"{project}:{instance}"
