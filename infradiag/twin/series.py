"""Long Monitoring time series, written compactly, produced in the public scenario form.

Scenario build scripts use these helpers to write `monitoring.timeSeries` exactly as
`projects.timeSeries.list` returns raw data (docs/scenario-format.md, "Time series"): one point per step
ending at `now`, points newest first, GAUGE points as instants, DELTA points spanning their step, INT64 values
as strings.

Values come from a callable of the point's age in steps (0 = the newest point), a sequence, or a pattern
string (oldest value first, items separated by spaces or commas):

    "5"          one value
    "5*10"       ten times 5
    "2..8*4"     a straight ramp of 4 values from 2 to 8 inclusive: 2, 4, 6, 8

so `"0.55..0.97*35 0.97*25"` is an hour that climbs for 35 minutes and then stays pinned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

V = TypeVar("V")
Point = dict[str, Any]
Series = dict[str, Any]
Values = Callable[[int], V] | Sequence[V] | str
Numbers = Values[int] | Values[float]

_ITEM = re.compile(r"^(?P<a>-?\d+(?:\.\d+)?)(?:\.\.(?P<b>-?\d+(?:\.\d+)?))?(?:\*(?P<n>\d+))?$")


def expand(pattern: str) -> list[float]:
    """The values a pattern stands for, oldest first; ValueError naming the bad item."""
    values: list[float] = []
    for item in re.split(r"[\s,]+", pattern.strip()):
        if not item:
            continue
        match = _ITEM.match(item)
        if match is None:
            raise ValueError(f"pattern item {item!r}: write V, V*N or A..B*N")
        start, count = float(match["a"]), int(match["n"] or 1)
        if count < 1:
            raise ValueError(f"pattern item {item!r}: the count must be at least 1")
        if match["b"] is None:
            values += [start] * count
            continue
        if match["n"] is None:
            raise ValueError(f"pattern item {item!r}: a ramp needs a count, e.g. {item}*10")
        end = float(match["b"])
        step = (end - start) / (count - 1) if count > 1 else 0.0
        values += [start + step * k for k in range(count)]
    return values


def _by_age(values: Values[Any], steps: int) -> Callable[[int], Any]:
    """A function of age (0 = newest) from a callable, a sequence or a pattern (both oldest first)."""
    if callable(values):
        return values
    listed = expand(values) if isinstance(values, str) else list(values)
    if len(listed) != steps:
        raise ValueError(f"{len(listed)} values for {steps} points: give exactly one value per point")
    return lambda age: listed[steps - 1 - age]


def rfc3339(instant: datetime) -> str:
    """`instant` as RFC 3339 in UTC to the second, as the REST API writes point times."""
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def points(
    now: datetime,
    steps: int,
    kind: str,
    value: Callable[[int], Point],
    step: timedelta = timedelta(minutes=1),
) -> list[Point]:
    """One point per `step` for `steps` steps ending at `now`, newest first; `value(age)` gives each value."""
    out = []
    for age in range(steps):
        end = now - step * age
        start = end if kind == "GAUGE" else end - step
        out.append({"interval": {"startTime": rfc3339(start), "endTime": rfc3339(end)}, "value": value(age)})
    return out


def _series(
    metric: dict[str, Any], resource: dict[str, Any], kind: str, value_type: str, pts: list[Point]
) -> Series:
    return {
        "metric": metric,
        "resource": resource,
        "metricKind": kind,
        "valueType": value_type,
        "points": pts,
    }


def _by_minute(
    kind: str,
    value_type: str,
    encode: Callable[[Any], Point],
    metric: dict[str, Any],
    resource: dict[str, Any],
    now: datetime,
    minutes: int,
    f: Values[Any],
) -> Series:
    """A `kind` `value_type` series of one point a minute for `minutes` minutes ending at `now`, each the
    value `f` gives its minute, as `encode` writes it."""
    by_age = _by_age(f, minutes)
    pts = points(now, minutes, kind, lambda age: encode(by_age(age)))
    return _series(metric, resource, kind, value_type, pts)


def _int64_value(value: float) -> Point:
    # The REST API writes an int64 as a string.
    return {"int64Value": str(int(value))}


def _distribution_value(distribution: dict[str, Any]) -> Point:
    return {"distributionValue": distribution}


def gauge_int(
    metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Numbers
) -> Series:
    """A GAUGE INT64 series, one point a minute."""
    return _by_minute("GAUGE", "INT64", _int64_value, metric, resource, now, minutes, f)


def gauge_double(
    metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Values[float]
) -> Series:
    """A GAUGE DOUBLE series, one point a minute, values rounded to 4 decimals."""
    encode: Callable[[float], Point] = lambda v: {"doubleValue": round(v, 4)}  # noqa: E731
    return _by_minute("GAUGE", "DOUBLE", encode, metric, resource, now, minutes, f)


def gauge_bool(
    metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Values[bool]
) -> Series:
    """A GAUGE BOOL series, one point a minute (patterns: 1 for true, 0 for false)."""
    return _by_minute("GAUGE", "BOOL", lambda v: {"boolValue": bool(v)}, metric, resource, now, minutes, f)


def delta_int(
    metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Numbers
) -> Series:
    """A DELTA INT64 series: each point counts what happened in its minute."""
    return _by_minute("DELTA", "INT64", _int64_value, metric, resource, now, minutes, f)


def fraction_distribution(samples: list[float]) -> dict[str, Any]:
    """A DISTRIBUTION of fractions in 10 linear buckets of 0.1 (plus under- and overflow)."""
    counts = [0] * 12
    for sample in samples:
        counts[min(11, max(0, int(sample * 10) + 1))] += 1
    buckets = {"linearBuckets": {"numFiniteBuckets": 10, "width": 0.1, "offset": 0}}
    return _distribution(samples, buckets, counts, mean_digits=4, deviation_digits=6)


def ms_distribution(samples: list[float]) -> dict[str, Any]:
    """A DISTRIBUTION of milliseconds in exponential buckets (1 ms growing by 2: 1, 2, 4, ... ms)."""
    counts = [0] * 22
    for sample in samples:
        index = 0 if sample < 1 else min(21, int(sample).bit_length())
        counts[index] += 1
    buckets = {"exponentialBuckets": {"numFiniteBuckets": 20, "growthFactor": 2, "scale": 1}}
    return _distribution(samples, buckets, counts, mean_digits=3, deviation_digits=3)


def _distribution(
    samples: list[float],
    bucket_options: dict[str, Any],
    counts: list[int],
    mean_digits: int,
    deviation_digits: int,
) -> dict[str, Any]:
    """The Distribution value of `samples` counted into `counts` (underflow first, overflow last), mean and
    sum of squared deviation rounded as given, counts as int64 strings."""
    mean = sum(samples) / len(samples)
    return {
        "count": str(len(samples)),
        "mean": round(mean, mean_digits),
        "sumOfSquaredDeviation": round(sum((s - mean) ** 2 for s in samples), deviation_digits),
        "bucketOptions": bucket_options,
        "bucketCounts": [str(c) for c in counts],
    }


def gauge_distribution(
    metric: dict[str, Any],
    resource: dict[str, Any],
    now: datetime,
    minutes: int,
    f: Callable[[int], list[float]],
) -> Series:
    """A GAUGE DISTRIBUTION of fractions; `f(age)` gives each minute's samples."""
    return _by_minute(
        "GAUGE",
        "DISTRIBUTION",
        _distribution_value,
        metric,
        resource,
        now,
        minutes,
        lambda age: fraction_distribution(f(age)),
    )


def delta_distribution(
    metric: dict[str, Any],
    resource: dict[str, Any],
    now: datetime,
    minutes: int,
    f: Callable[[int], dict[str, Any]],
) -> Series:
    """A DELTA DISTRIBUTION; `f(age)` gives each minute's distribution (e.g. from ms_distribution)."""
    return _by_minute("DELTA", "DISTRIBUTION", _distribution_value, metric, resource, now, minutes, f)
