"""Cloud SQL evidence: instance state, replication role, connection limits and load."""

from __future__ import annotations

from pydantic import Field

from infradiag.evidence.base import EvidenceModel

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


class DatabaseFlag(EvidenceModel):
    """One entry of settings.databaseFlags, as the API gives it."""

    name: str
    value: str | None = None  # absent for a flag that takes no value


class SqlInstanceEvidence(EvidenceModel):
    name: str
    resource: str  # projects/P/instances/I
    connection_name: str  # P:REGION:I
    region: str
    # RUNNABLE | SUSPENDED | PENDING_CREATE | MAINTENANCE | FAILED | ... A stopped instance stays RUNNABLE
    # with activation_policy NEVER ("RUNNABLE: The instance is running, or has been stopped by owner",
    # https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances#SqlInstanceState).
    state: str
    engine: str  # POSTGRES | MYSQL | SQLSERVER
    database_version: str
    tier: str  # the instance's own tier: a read replica's may differ from its primary's
    # CLOUD_SQL_INSTANCE | READ_REPLICA_INSTANCE | ON_PREMISES_INSTANCE | READ_POOL_INSTANCE | ...; None when
    # the API left it out.
    instance_type: str | None = None
    master_instance: str | None = None  # a replica's primary, short name (masterInstanceName may be P:I)
    activation_policy: str | None = None  # settings.activationPolicy: ALWAYS | NEVER | ON_DEMAND
    # suspensionReason, only while SUSPENDED: BILLING_ISSUE | LEGAL_ISSUE | OPERATIONAL_ISSUE |
    # KMS_KEY_ISSUE | PROJECT_ABUSE | ...
    suspension_reasons: list[str] = Field(default_factory=list)
    kms_key: str | None = None  # diskEncryptionConfiguration.kmsKeyName (CMEK)
    kms_key_version: str | None = None  # diskEncryptionStatus.kmsKeyVersionName
    maintenance_window: str | None = None  # settings.maintenanceWindow as "Sunday 03:00 UTC"
    scheduled_maintenance: str | None = None  # scheduledMaintenance.startTime, RFC 3339
    memory_gb: float | None = None
    max_connections: int | None = None
    max_connections_source: str | None = None  # "flag" or "tier default"
    # Google's default max_connections for the instance's memory (PostgreSQL), whatever the flag says.
    default_max_connections: int | None = None
    # settings.databaseFlags, in the API's order: patching flags replaces them all; a fix carries them over.
    database_flags: list[DatabaseFlag] = Field(default_factory=list)
    private_ip: str | None = None  # the ipAddresses entry of type PRIVATE
    private_network: str | None = None  # short network name
    allocated_ip_range: str | None = None  # settings.ipConfiguration.allocatedIpRange (a range's name)
    port: int = 5432
    # Over the judged window; None where the metric had no data.
    connections_max: float | None = None  # num_backends summed over databases, or network/connections
    cpu_max: float | None = None  # database/cpu/utilization
    up_min: float | None = None  # database/up
