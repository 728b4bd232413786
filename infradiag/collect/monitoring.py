"""Cloud Monitoring v3: one ListTimeSeries query per signal for the whole environment.

A signal is one metric, filtered, aligned per series and reduced per group (e.g. per connector or per
Cloud Run service), so one call answers for every resource at once. Most signals align over their whole
window, so each group comes back as one number; a signal with a shorter `period` comes back as one point
per period (e.g. per minute), for peaks. Windows allow for ingest lag (up to 240 s for connectors, 225 s for
Cloud NAT), so 15 minutes always hold data: https://cloud.google.com/monitoring/api/metrics_gcp
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from infradiag.collect.calls import Timeout

Group = tuple[str, ...]
Series = dict[Group, dict[datetime, float]]


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
    # Further conditions, e.g. 'metric.labels.state = "active"'.
    extra_filter: str = ""
    # The resource label that holds the region (it differs per resource type); None: project-wide.
    region_label: str | None = "resource.labels.location"
    # Alignment period; None: the whole window, one point per group.
    period: timedelta | None = None

    @property
    def alignment_period(self) -> timedelta:
        """How long each point of the signal's series summarises: its period, else its whole window."""
        return self.period or self.window

    def filter(self, region: str) -> str:
        """The ListTimeSeries filter: exactly one metric type (as Google requires), this resource type,
        this region, and the signal's own conditions."""
        parts = [f'metric.type = "{self.metric_type}"', f'resource.type = "{self.resource_type}"']
        if self.region_label is not None:
            parts.append(f'{self.region_label} = "{region}"')
        if self.extra_filter:
            parts.append(self.extra_filter)
        return " AND ".join(parts)


def _label(series: Any, field: str) -> str:
    kind, _, key = field.split(".", 2)
    labels = series.resource.labels if kind == "resource" else series.metric.labels
    return str(labels.get(key, ""))


def _number(point: Any) -> float | None:
    value = point.value
    for field in ("double_value", "int64_value"):
        if field in value:
            return float(getattr(value, field))
    if "bool_value" in value:
        return 1.0 if value.bool_value else 0.0
    return None


def query_series(
    client: Any, project: str, region: str, now: datetime, signal: Signal, timeout: Timeout
) -> Series:
    """Group-by label values -> {point end time: value} over the window ending at `now` (one call,
    paginated). Groups without points are left out."""
    from google.cloud.monitoring_v3 import types as monitoring_v3

    request = monitoring_v3.ListTimeSeriesRequest(
        name=f"projects/{project}",
        filter=signal.filter(region),
        interval=monitoring_v3.TimeInterval(start_time=now - signal.window, end_time=now),
        aggregation=monitoring_v3.Aggregation(
            alignment_period={"seconds": int(signal.alignment_period.total_seconds())},
            per_series_aligner=getattr(monitoring_v3.Aggregation.Aligner, signal.aligner),
            cross_series_reducer=getattr(monitoring_v3.Aggregation.Reducer, signal.reducer),
            group_by_fields=list(signal.group_by),
        ),
        view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
    )
    values: Series = {}
    for series in client.list_time_series(request=request, timeout=timeout, retry=None):
        group = tuple(_label(series, field) for field in signal.group_by)
        for point in series.points:
            number = _number(point)
            if number is not None:
                # A series may continue on the next page: merge by end time.
                values.setdefault(group, {})[point.interval.end_time] = number
    return values


def newest(series: Series) -> dict[Group, float]:
    """The newest point of each group (points come newest first, but pages may split a series)."""
    return {group: points[max(points)] for group, points in series.items() if points}


def sum_by_time(*parts: Mapping[Group, Mapping[datetime, float]]) -> dict[Group, dict[datetime, float]]:
    """Per group, the sum over `parts` at each point in time, e.g. sent + received bytes/s per minute. A time
    where only some parts have data counts what is there; a group without points is left out."""
    totals: dict[Group, dict[datetime, float]] = {}
    for part in parts:
        for group, points in part.items():
            for end, value in points.items():
                by_time = totals.setdefault(group, {})
                by_time[end] = by_time.get(end, 0.0) + value
    return totals


def peak_of_sum(*parts: Mapping[Group, Mapping[datetime, float]]) -> dict[Group, float]:
    """Per group, the largest sum over `parts` at one point in time (sum_by_time's busiest point)."""
    return {group: max(points.values()) for group, points in sum_by_time(*parts).items()}
