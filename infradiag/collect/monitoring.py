"""Cloud Monitoring v3: one ListTimeSeries query per signal for the whole environment.

Each signal is aligned over its whole window, so every group (e.g. each connector) comes back as one
number. Windows allow for ingest lag: connectors report up to 240 s late
(https://cloud.google.com/monitoring/api/metrics_gcp_u_z#gcp-vpcaccess), so 15 minutes always hold data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Signal:
    """A metric summarised per group over a window, e.g. the p95 CPU of each connector over 15 min."""

    name: str
    metric_type: str
    resource_type: str
    aligner: str
    reducer: str
    group_by: tuple[str, ...]
    window: timedelta = timedelta(minutes=15)

    def filter(self, region: str) -> str:
        """The ListTimeSeries filter: this metric, in this region."""
        return (
            f'metric.type = "{self.metric_type}" AND resource.type = "{self.resource_type}" '
            f'AND resource.labels.location = "{region}"'
        )


# https://cloud.google.com/monitoring/api/metrics_gcp_u_z#gcp-vpcaccess
CONNECTOR_CPU_P95 = Signal(
    name="connector_cpu_p95",
    metric_type="vpcaccess.googleapis.com/connector/cpu/utilizations",
    resource_type="vpc_access_connector",
    aligner="ALIGN_PERCENTILE_95",
    reducer="REDUCE_MAX",
    group_by=("resource.labels.connector_name",),
)
CONNECTOR_INSTANCES_MAX = Signal(
    name="connector_instances_max",
    metric_type="vpcaccess.googleapis.com/connector/instances",
    resource_type="vpc_access_connector",
    aligner="ALIGN_MAX",
    reducer="REDUCE_MAX",
    group_by=("resource.labels.connector_name",),
)


def _label(series: Any, field: str) -> str:
    kind, _, key = field.split(".", 2)
    labels = series.resource.labels if kind == "resource" else series.metric.labels
    return str(labels.get(key, ""))


def _number(point: Any) -> float | None:
    value = point.value
    for field in ("double_value", "int64_value"):
        if field in value:
            return float(getattr(value, field))
    return None


def query_signal(
    client: Any, project: str, region: str, now: datetime, signal: Signal, timeout_s: float
) -> dict[tuple[str, ...], float]:
    """Group-by label values -> the signal's value over its window ending at `now` (one call, paginated)."""
    from google.cloud import monitoring_v3

    seconds = int(signal.window.total_seconds())
    request = monitoring_v3.ListTimeSeriesRequest(
        name=f"projects/{project}",
        filter=signal.filter(region),
        interval=monitoring_v3.TimeInterval(start_time=now - signal.window, end_time=now),
        aggregation=monitoring_v3.Aggregation(
            alignment_period={"seconds": seconds},
            per_series_aligner=getattr(monitoring_v3.Aggregation.Aligner, signal.aligner),
            cross_series_reducer=getattr(monitoring_v3.Aggregation.Reducer, signal.reducer),
            group_by_fields=list(signal.group_by),
        ),
        view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
    )
    values: dict[tuple[str, ...], float] = {}
    for series in client.list_time_series(request=request, timeout=timeout_s, retry=None):
        if not series.points:
            continue
        number = _number(series.points[0])
        if number is not None:
            values[tuple(_label(series, field) for field in signal.group_by)] = number
    return values
