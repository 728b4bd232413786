"""The Cloud Monitoring metric types infradiag names: those it reads (collect/signals.py) and, per cause,
those an alert policy watching for it would use (the monitoring-alert-gap playbook, through
`alert_metrics`). Metric lists: https://cloud.google.com/monitoring/api/metrics_gcp."""

from __future__ import annotations

CONNECTOR_CPU = "vpcaccess.googleapis.com/connector/cpu/utilizations"
CONNECTOR_INSTANCES = "vpcaccess.googleapis.com/connector/instances"
CONNECTOR_SENT_BYTES = "vpcaccess.googleapis.com/connector/sent_bytes_count"
CONNECTOR_RECEIVED_BYTES = "vpcaccess.googleapis.com/connector/received_bytes_count"
RUN_INSTANCE_COUNT = "run.googleapis.com/container/instance_count"
RUN_MEMORY = "run.googleapis.com/container/memory/utilizations"
RUN_REQUEST_LATENCIES = "run.googleapis.com/request_latencies"
RUN_STARTUP_LATENCIES = "run.googleapis.com/container/startup_latencies"
RUN_REQUEST_COUNT = "run.googleapis.com/request_count"
SQL_POSTGRES_BACKENDS = "cloudsql.googleapis.com/database/postgresql/num_backends"
SQL_CONNECTIONS = "cloudsql.googleapis.com/database/network/connections"
SQL_CPU = "cloudsql.googleapis.com/database/cpu/utilization"
SQL_UP = "cloudsql.googleapis.com/database/up"
SQL_INSTANCE_STATE = "cloudsql.googleapis.com/database/instance_state"  # alerted on, not read
NAT_DROPPED_SENT_PACKETS = "router.googleapis.com/nat/dropped_sent_packets_count"
NAT_ALLOCATION_FAILED = "router.googleapis.com/nat/nat_allocation_failed"

# Per cause, the metrics an alert policy on it would watch, the most telling first (the playbook's
# remediation creates an alert on the first).
ALERT_METRICS: dict[str, tuple[str, ...]] = {
    "vpc_connector.saturated": (CONNECTOR_CPU, CONNECTOR_INSTANCES),
    "sql.max_connections_exhausted": (SQL_POSTGRES_BACKENDS, SQL_CONNECTIONS),
    "sql.cpu_saturated": (SQL_CPU,),
    "sql.instance_unavailable": (SQL_UP, SQL_INSTANCE_STATE),
    "run.max_instances_reached": (RUN_INSTANCE_COUNT, RUN_REQUEST_COUNT),
    "run.memory_exhausted": (RUN_MEMORY, RUN_REQUEST_COUNT),
    "app.error": (RUN_REQUEST_COUNT,),
    "vpc.nat_exhausted": (NAT_DROPPED_SENT_PACKETS, NAT_ALLOCATION_FAILED),
}


def alert_metrics(cause: str) -> list[str]:
    """The metric types an alert on `cause` would watch, most telling first; empty for a cause no metric
    shows."""
    return list(ALERT_METRICS.get(str(cause), ()))


# Per metric the report draws, the threshold (a key of the environment's `thresholds`) its playbook compares
# it with: the line marked on the sparkline. A series with a limit of its own (a connector's throughput
# ceiling) is judged against that share of the limit.
SERIES_THRESHOLDS: dict[str, str] = {
    CONNECTOR_CPU: "connector_cpu_saturated",
    CONNECTOR_SENT_BYTES: "connector_throughput_saturated",  # sent + received, of the connector's ceiling
}
