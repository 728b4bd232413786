"""ListTimeSeries: selection, the response's series and paging (google/monitoring/v3/metric_service.proto)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from infradiag.twin.timeseries.aggregation import parse_aggregation
from infradiag.twin.timeseries.alignment import Aligned, Interval, Series, align_series, interval_of
from infradiag.twin.timeseries.errors import InvalidArgument, JsonDict
from infradiag.twin.timeseries.filters import TimeSeriesFilter, parse_time_series_filter
from infradiag.twin.timeseries.reduction import reduce_groups
from infradiag.twin.timeseries.values import format_timestamp, value_json


def _aligned_json(aligned: Aligned, period: int) -> JsonDict:
    points = []
    for end in sorted(aligned.values, reverse=True):
        # A GAUGE point is a point in time; an aligned DELTA point covers its whole alignment period.
        start = end - period if aligned.kind == "DELTA" else end
        points.append(
            {
                "interval": {"startTime": format_timestamp(start), "endTime": format_timestamp(end)},
                "value": value_json(aligned.values[end], aligned.value_type),
            }
        )
    return {
        "metric": aligned.metric,
        "resource": aligned.resource,
        "metricKind": aligned.kind,
        "valueType": aligned.value_type,
        "points": points,
    }


def _raw_json(series: Series, interval: Interval) -> JsonDict:
    inside = [(end, point) for end, point in series.point_ends() if interval.contains(end)]
    inside.sort(key=lambda item: item[0], reverse=True)
    return {**series.raw, "points": [dict(point) for _, point in inside]}


def _has_point_in(series: Series, interval: Interval) -> bool:
    return any(interval.contains(end) for end, _ in series.point_ends())


def _selected(series: Iterable[Mapping[str, Any]], flt: TimeSeriesFilter, interval: Interval) -> list[Series]:
    # metric_service.proto, interval: "Only time series that contain data points in the specified
    # interval are included in the response."
    chosen = []
    for raw in series:
        if not flt.matches(raw):
            continue
        parsed = Series(raw, str(raw.get("metricKind", "")), str(raw.get("valueType", "")))
        if interval.instant and parsed.kind != "GAUGE":
            # TimeInterval: only GAUGE metrics may omit the start time (a point in time).
            raise InvalidArgument(
                f"interval: {parsed.kind} metrics need a start time earlier than the end time"
            )
        if _has_point_in(parsed, interval):
            chosen.append(parsed)
    return chosen


def list_time_series(
    series: Iterable[Mapping[str, Any]],
    *,
    filter: str,
    start_time: datetime | None,
    end_time: datetime,
    aggregation: Mapping[str, Any] | None = None,
    view: str = "FULL",
) -> list[JsonDict]:
    """REST-form TimeSeries answering the query as Google documents it, points newest first.

    Raises InvalidArgument for a request Google rejects or one the twin cannot answer exactly, and
    ScenarioDataError for malformed scenario data.
    """
    if view not in ("FULL", "HEADERS"):
        raise InvalidArgument(f"view: unknown view {view}")
    flt = parse_time_series_filter(filter)
    agg = parse_aggregation(aggregation)
    interval = interval_of(start_time, end_time)
    chosen = _selected(series, flt, interval)
    if agg.aligner == "ALIGN_NONE":
        out = [_raw_json(s, interval) for s in chosen]
    else:
        ends = interval.period_ends(agg.period)
        aligned = [align_series(s, agg, ends) for s in chosen]
        if agg.reducer != "REDUCE_NONE":
            aligned = reduce_groups(aligned, agg)
        out = [_aligned_json(a, agg.period) for a in aligned if a.values]
    if view == "HEADERS":
        return [{k: v for k, v in item.items() if k != "points"} for item in out]
    return out


MAX_PAGE_SIZE = 100_000  # metric_service.proto: empty or above 100,000 means 100,000


def page_of_time_series(
    series: Sequence[JsonDict], *, view: str, page_size: int, offset: int
) -> tuple[list[JsonDict], int | None]:
    """One page and the offset of the next (None on the last page).

    metric_service.proto, page_size: with view FULL it bounds the number of *points* in a page, with
    HEADERS the number of series. A series whose points do not all fit is continued on the next page.
    """
    if page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    size = MAX_PAGE_SIZE if page_size == 0 else min(page_size, MAX_PAGE_SIZE)
    if view == "HEADERS":
        page = list(series[offset : offset + size])
        following = offset + len(page)
        return page, following if following < len(series) else None
    page, skipped, taken = [], 0, 0
    for item in series:
        points = item.get("points") or []
        first = max(0, offset - skipped)
        skipped += len(points)
        chosen = points[first : first + size - taken]
        if chosen:
            page.append({**item, "points": chosen})
            taken += len(chosen)
        if taken == size:
            break
    total = sum(len(item.get("points") or []) for item in series)
    following = offset + taken
    return page, following if following < total else None
