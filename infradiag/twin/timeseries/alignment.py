"""Series, intervals and per-series alignment (common.proto: TimeInterval, Aggregation.Aligner)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from infradiag.twin.timeseries.aggregation import ALIGNERS, Aggregation, combine, combined_type
from infradiag.twin.timeseries.errors import InvalidArgument, JsonDict, unsupported
from infradiag.twin.timeseries.values import MICROS, Distribution, Value, micros, parse_timestamp, parse_value


@dataclass(frozen=True)
class Point:
    """One parsed point: start (None: a point in time) and end in microseconds, and its value."""

    start: int | None
    end: int
    value: Value


@dataclass(frozen=True)
class Series:
    """A REST-form TimeSeries with its metric kind and value type."""

    raw: Mapping[str, Any]
    kind: str
    value_type: str

    def where(self) -> str:
        metric = self.raw.get("metric") or {}
        return f"time series {metric.get('type')} {metric.get('labels') or {}}"

    def point_ends(self) -> list[tuple[int, Mapping[str, Any]]]:
        """(end time, point dict) of every point, as written."""
        out = []
        for index, point in enumerate(self.raw.get("points") or []):
            interval = point.get("interval") or {}
            out.append((parse_timestamp(interval.get("endTime"), f"{self.where()} point {index}"), point))
        return out

    def points(self) -> list[Point]:
        """Every point parsed, oldest first."""
        parsed = []
        for index, point in enumerate(self.raw.get("points") or []):
            where = f"{self.where()} point {index}"
            interval = point.get("interval") or {}
            start = interval.get("startTime")
            parsed.append(
                Point(
                    None if start is None else parse_timestamp(start, where),
                    parse_timestamp(interval.get("endTime"), where),
                    parse_value(point.get("value") or {}, self.value_type, where),
                )
            )
        return sorted(parsed, key=lambda p: p.end)


@dataclass(frozen=True)
class Interval:
    """A request's TimeInterval in microseconds."""

    start: int
    end: int
    instant: bool  # the GAUGE point-in-time form: start omitted or equal to end

    def contains(self, moment: int) -> bool:
        # TimeInterval (common.proto), reads: half-open (startTime, endTime]; a point-in-time interval
        # (GAUGE only) holds exactly its end time.
        return moment == self.end if self.instant else self.start < moment <= self.end

    def period_ends(self, period: int) -> list[int]:
        """Ends of the alignment periods covering the interval, newest first (the newest ends at endTime)."""
        count = 1 if self.instant else -(-(self.end - self.start) // period)
        return [self.end - k * period for k in range(count)]


def interval_of(start_time: datetime | None, end_time: datetime) -> Interval:
    """The request's interval, or InvalidArgument when it starts after it ends."""
    end = micros(end_time)
    start = end if start_time is None else micros(start_time)
    if start > end:
        raise InvalidArgument("interval: the start time must not be later than the end time")
    return Interval(start, end, start == end)


@dataclass
class Aligned:
    """A series after alignment: one value per alignment period end."""

    metric: JsonDict
    resource: JsonDict
    kind: str
    value_type: str
    values: dict[int, Value]  # period end -> value


def _check_aligner(aligner: str, series: Series) -> None:
    rule = ALIGNERS[aligner]
    if series.kind not in rule.kinds or series.value_type not in rule.value_types:
        raise InvalidArgument(
            f"aggregation: {aligner} is not valid for {series.kind} {series.value_type} metrics "
            f"(valid: {'/'.join(sorted(rule.kinds))} {'/'.join(sorted(rule.value_types))})"
        )
    if aligner == "ALIGN_DELTA" and series.value_type == "DISTRIBUTION":
        raise unsupported("ALIGN_DELTA on DISTRIBUTION values")


def _exact(value: Value) -> Fraction:
    if isinstance(value, Distribution | str):
        raise AssertionError("numeric values only: _check_aligner admits INT64 and DOUBLE here")
    return Fraction(value)


def _segments(series: Series) -> list[tuple[int, int, Fraction]]:
    """The series as (start, end, increase) pieces: DELTA points as written, CUMULATIVE as differences."""
    pieces = []
    previous: Point | None = None
    for point in series.points():
        value = _exact(point.value)
        start = point.end if point.start is None else point.start
        if series.kind == "CUMULATIVE" and previous is not None and point.start == previous.start:
            pieces.append((previous.end, point.end, value - _exact(previous.value)))
        else:
            # DELTA points, and the first CUMULATIVE point after a reset, count from their own start.
            pieces.append((start, point.end, value))
        previous = point
    return pieces


def _increase(pieces: list[tuple[int, int, Fraction]], low: int, high: int) -> Fraction | None:
    """Increase over (low, high], spreading each piece evenly over its interval; None without data."""
    total: Fraction | None = None
    for start, end, amount in pieces:
        if start == end:
            share = amount if low < end <= high else None
        else:
            overlap = min(end, high) - max(start, low)
            share = amount * Fraction(overlap, end - start) if overlap > 0 else None
        if share is not None:
            total = share if total is None else total + share
    return total


def _align_change(series: Series, agg: Aggregation, ends: list[int]) -> dict[int, Value]:
    # common.proto: ALIGN_DELTA is y1 - y0 and ALIGN_RATE (y1 - y0)/(t1 - t0) over the period, "the slope
    # of the line that passes through the value at the start and at the end", with values between
    # points "created by interpolation": each point's increase is spread linearly over its interval.
    pieces = _segments(series)
    values: dict[int, Value] = {}
    for end in ends:
        increase = _increase(pieces, end - agg.period, end)
        if increase is None:
            continue
        if agg.aligner == "ALIGN_RATE":
            values[end] = float(increase / Fraction(agg.period, MICROS))
        elif series.value_type == "DOUBLE":
            values[end] = float(increase)
        elif increase.denominator == 1:
            values[end] = int(increase)
        else:
            # Google's rounding of an interpolated INT64 share is undocumented: refuse rather than guess.
            raise unsupported("ALIGN_DELTA of INT64 points that straddle an alignment boundary")
    return values


def _align_points(series: Series, agg: Aggregation, ends: list[int]) -> dict[int, Value]:
    # common.proto: each aligner groups "all the data points in an alignment_period" into one point at the
    # period's end; a point belongs to the period (end - period, end] that holds its end time.
    points = series.points()
    values: dict[int, Value] = {}
    for end in ends:
        inside = [p for p in points if end - agg.period < p.end <= end]
        if not inside:
            continue
        if agg.aligner == "ALIGN_NEXT_OLDER":
            values[end] = inside[-1].value
            continue
        combined = combine(agg.aligner.removeprefix("ALIGN_"), [p.value for p in inside], series.value_type)
        if combined is not None:
            values[end] = combined
    return values


def _aligned_type(aligner: str, value_type: str) -> str:
    if aligner == "ALIGN_RATE":
        return "DOUBLE"
    if aligner in ("ALIGN_DELTA", "ALIGN_NEXT_OLDER"):
        return value_type
    return combined_type(aligner.removeprefix("ALIGN_"), value_type)


def align_series(series: Series, agg: Aggregation, ends: list[int]) -> Aligned:
    """Apply the per-series aligner to one series over the periods ending at `ends`."""
    _check_aligner(agg.aligner, series)
    if agg.aligner in ("ALIGN_DELTA", "ALIGN_RATE"):
        values = _align_change(series, agg, ends)
    else:
        values = _align_points(series, agg, ends)
    return Aligned(
        metric=dict(series.raw.get("metric") or {}),
        resource=dict(series.raw.get("resource") or {}),
        kind=ALIGNERS[agg.aligner].out_kind or series.kind,
        value_type=_aligned_type(agg.aligner, series.value_type),
        values=values,
    )
