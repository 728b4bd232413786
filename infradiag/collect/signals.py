"""The Monitoring signals infradiag reads: one ListTimeSeries query each, for the whole environment.

Metric kinds, value types and labels as Google's metric lists give them (docs/gcp-reference.md, "Metrics"):
https://cloud.google.com/monitoring/api/metrics_gcp (sections vpcaccess, run, cloudsql) and, for Cloud NAT,
https://cloud.google.com/nat/docs/monitoring#gateway-metrics. Aligners per google/monitoring/v3/common.proto:
percentile aligners summarise DISTRIBUTION values; ALIGN_DELTA and ALIGN_RATE need DELTA or CUMULATIVE
metrics; ALIGN_COUNT_TRUE needs a GAUGE BOOL.
"""

from __future__ import annotations

from datetime import timedelta

from infradiag.collect.api import MONITORING, Read, Route
from infradiag.collect.monitoring import Signal
from infradiag.evidence import metrics

_CONNECTOR = ("resource.labels.connector_name",)
_RUN_SERVICE = ("resource.labels.service_name",)
_SQL_DATABASE = ("resource.labels.database_id",)  # "project:instance"
_NAT_GATEWAY = ("resource.labels.gateway_name",)

# Serverless VPC Access, resource vpc_access_connector (project_id, location, connector_name).
# cpu/utilizations: GAUGE DISTRIBUTION (fraction); instances: GAUGE INT64.
CONNECTOR_CPU_P95 = Signal(
    "connector_cpu_p95",
    metrics.CONNECTOR_CPU,
    "vpc_access_connector",
    "ALIGN_PERCENTILE_95",
    "REDUCE_MAX",
    _CONNECTOR,
)
# The same CPU p95, per minute over the same window: the curve the report draws next to the figure above.
CONNECTOR_CPU_P95_PER_MINUTE = Signal(
    "connector_cpu_p95_per_minute",
    metrics.CONNECTOR_CPU,
    "vpc_access_connector",
    "ALIGN_PERCENTILE_95",
    "REDUCE_MAX",
    _CONNECTOR,
    period=timedelta(minutes=1),
)
CONNECTOR_INSTANCES_MAX = Signal(
    "connector_instances_max",
    metrics.CONNECTOR_INSTANCES,
    "vpc_access_connector",
    "ALIGN_MAX",
    "REDUCE_MAX",
    _CONNECTOR,
)
CONNECTOR_INSTANCES_MAX_PER_MINUTE = Signal(  # the curve of the figure above
    "connector_instances_max_per_minute",
    metrics.CONNECTOR_INSTANCES,
    "vpc_access_connector",
    "ALIGN_MAX",
    "REDUCE_MAX",
    _CONNECTOR,
    period=timedelta(minutes=1),
)
# {sent,received}_bytes_count: DELTA INT64 bytes, sampled every 60 s. Aligned per minute (the sampling
# period, the finest resolution there is) with ALIGN_RATE (bytes/s), so the peak minute shows: a 15-minute
# average would hide the bursts that saturate a connector.
CONNECTOR_SENT_BYTES_RATE = Signal(
    "connector_sent_bytes_rate",
    metrics.CONNECTOR_SENT_BYTES,
    "vpc_access_connector",
    "ALIGN_RATE",
    "REDUCE_SUM",
    _CONNECTOR,
    period=timedelta(minutes=1),
)
CONNECTOR_RECEIVED_BYTES_RATE = Signal(
    "connector_received_bytes_rate",
    metrics.CONNECTOR_RECEIVED_BYTES,
    "vpc_access_connector",
    "ALIGN_RATE",
    "REDUCE_SUM",
    _CONNECTOR,
    period=timedelta(minutes=1),
)

# Cloud Run, resource cloud_run_revision (service_name, revision_name, location, ...): per-revision series,
# reduced per service.
RUN_INSTANCES_ACTIVE = Signal(  # container/instance_count: GAUGE INT64, metric label state
    "run_instances_active",
    metrics.RUN_INSTANCE_COUNT,
    "cloud_run_revision",
    "ALIGN_MAX",
    "REDUCE_SUM",
    _RUN_SERVICE,
    extra_filter='metric.labels.state = "active"',
)
RUN_MEMORY_P99 = Signal(  # container/memory/utilizations: DELTA DISTRIBUTION, fraction
    "run_memory_p99",
    metrics.RUN_MEMORY,
    "cloud_run_revision",
    "ALIGN_PERCENTILE_99",
    "REDUCE_MAX",
    _RUN_SERVICE,
)
RUN_LATENCY_P99 = Signal(  # request_latencies: DELTA DISTRIBUTION, ms
    "run_latency_p99",
    metrics.RUN_REQUEST_LATENCIES,
    "cloud_run_revision",
    "ALIGN_PERCENTILE_99",
    "REDUCE_MAX",
    _RUN_SERVICE,
)
RUN_STARTUP_P95 = Signal(  # container/startup_latencies: DELTA DISTRIBUTION, ms
    "run_startup_p95",
    metrics.RUN_STARTUP_LATENCIES,
    "cloud_run_revision",
    "ALIGN_PERCENTILE_95",
    "REDUCE_MAX",
    _RUN_SERVICE,
)
# request_count: DELTA INT64, metric label response_code_class ("5xx"). It never counts requests that did
# not reach an instance (unauthorised, max instances reached).
RUN_REQUESTS = Signal(
    "run_requests",
    metrics.RUN_REQUEST_COUNT,
    "cloud_run_revision",
    "ALIGN_DELTA",
    "REDUCE_SUM",
    _RUN_SERVICE,
)
RUN_REQUESTS_5XX = Signal(
    "run_requests_5xx",
    metrics.RUN_REQUEST_COUNT,
    "cloud_run_revision",
    "ALIGN_DELTA",
    "REDUCE_SUM",
    _RUN_SERVICE,
    extra_filter='metric.labels.response_code_class = "5xx"',
)

# Cloud SQL, resource cloudsql_database (project_id, database_id "project:instance", region). Instances are
# listed project-wide, so these are too.
SQL_BACKENDS = Signal(  # database/postgresql/num_backends: GAUGE INT64 per database (label database)
    "sql_postgres_backends",
    metrics.SQL_POSTGRES_BACKENDS,
    "cloudsql_database",
    "ALIGN_MAX",
    "REDUCE_SUM",
    _SQL_DATABASE,
    region_label=None,
)
SQL_CONNECTIONS = Signal(  # database/network/connections: GAUGE INT64, MySQL and SQL Server only
    "sql_connections",
    metrics.SQL_CONNECTIONS,
    "cloudsql_database",
    "ALIGN_MAX",
    "REDUCE_MAX",
    _SQL_DATABASE,
    region_label=None,
)
SQL_CPU_MAX = Signal(  # database/cpu/utilization: GAUGE DOUBLE, fraction
    "sql_cpu_max",
    metrics.SQL_CPU,
    "cloudsql_database",
    "ALIGN_MAX",
    "REDUCE_MAX",
    _SQL_DATABASE,
    region_label=None,
)
SQL_UP_MIN = Signal(  # database/up: GAUGE INT64, 1 when up
    "sql_up_min",
    metrics.SQL_UP,
    "cloudsql_database",
    "ALIGN_MIN",
    "REDUCE_MIN",
    _SQL_DATABASE,
    region_label=None,
)

# Cloud NAT, resource nat_gateway (project_id, region, router_id, gateway_name), metrics per
# https://cloud.google.com/monitoring/api/metrics_gcp (router) and https://cloud.google.com/nat/docs/monitoring.
# dropped_sent_packets_count: DELTA INT64, labels ip_protocol and reason, OUT_OF_RESOURCES (no free NAT
# port or address) or ENDPOINT_INDEPENDENCE_CONFLICT (endpoint-independent mapping could not reuse a port).
# One query for every reason: grouped by gateway and reason, summed over protocols.
NAT_REASON = "metric.labels.reason"
NAT_DROPPED_SENT_PACKETS = Signal(
    "nat_dropped_sent_packets",
    metrics.NAT_DROPPED_SENT_PACKETS,
    "nat_gateway",
    "ALIGN_DELTA",
    "REDUCE_SUM",
    (*_NAT_GATEWAY, NAT_REASON),
    region_label="resource.labels.region",
)
NAT_ALLOCATION_FAILED = Signal(  # nat_allocation_failed: GAUGE BOOL
    "nat_allocation_failed",
    metrics.NAT_ALLOCATION_FAILED,
    "nat_gateway",
    "ALIGN_COUNT_TRUE",
    "REDUCE_SUM",
    _NAT_GATEWAY,
    region_label="resource.labels.region",
)

SIGNALS = (
    CONNECTOR_CPU_P95,
    CONNECTOR_CPU_P95_PER_MINUTE,
    CONNECTOR_INSTANCES_MAX,
    CONNECTOR_INSTANCES_MAX_PER_MINUTE,
    CONNECTOR_SENT_BYTES_RATE,
    CONNECTOR_RECEIVED_BYTES_RATE,
    RUN_INSTANCES_ACTIVE,
    RUN_MEMORY_P99,
    RUN_LATENCY_P99,
    RUN_STARTUP_P95,
    RUN_REQUESTS,
    RUN_REQUESTS_5XX,
    SQL_BACKENDS,
    SQL_CONNECTIONS,
    SQL_CPU_MAX,
    SQL_UP_MIN,
    NAT_DROPPED_SENT_PACKETS,
    NAT_ALLOCATION_FAILED,
)


# The signals as reads, one per family (the start of a signal's name): a failed query's unknown says what its
# family leaves unchecked. The collector runs every signal (Collector._series) and joins the series into the
# evidence field of its family.
def _family(name: str, field: str, consequence: str) -> Read:
    return Read(
        name,
        MONITORING,
        "monitoring.projects.timeSeries.list",
        paginated=True,
        consequence=consequence,
        field=field,
        route=Route("gRPC", "/google.monitoring.v3.MetricService/ListTimeSeries"),
    )


READS = (
    _family(
        "connector", "connectors", "connector load (CPU, instance count, throughput) could not be checked"
    ),
    _family(
        "run", "services", "Cloud Run load (instances, memory, latency, startup, 5xx) could not be checked"
    ),
    _family("sql", "sql_instances", "Cloud SQL load (connections, CPU, up) could not be checked"),
    _family(
        "nat", "nats", "Cloud NAT drops and allocation failures could not be checked (vpc.nat_exhausted)"
    ),
)


def family(signal_name: str) -> str:
    """The family of a signal: the start of its name, up to the first "_" (e.g. "connector")."""
    return signal_name.split("_", 1)[0]
