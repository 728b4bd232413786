"""Helpers that write Monitoring v3 TimeSeries in the REST form scenarios use (points newest first)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

Point = dict[str, Any]


def rfc3339(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _points(now: datetime, minutes: int, kind: str, value: Callable[[int], dict[str, Any]]) -> list[Point]:
    """One point a minute for `minutes` minutes ending at `now`; `value(age_minutes)` gives each value."""
    points = []
    for age in range(minutes):
        end = now - timedelta(minutes=age)
        start = end if kind == "GAUGE" else end - timedelta(minutes=1)
        points.append({"interval": {"startTime": rfc3339(start), "endTime": rfc3339(end)}, "value": value(age)})
    return points


def gauge_int(metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Callable[[int], int]) -> dict[str, Any]:
    return {
        "metric": metric, "resource": resource, "metricKind": "GAUGE", "valueType": "INT64",
        "points": _points(now, minutes, "GAUGE", lambda age: {"int64Value": str(f(age))}),
    }


def gauge_double(metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Callable[[int], float]) -> dict[str, Any]:
    return {
        "metric": metric, "resource": resource, "metricKind": "GAUGE", "valueType": "DOUBLE",
        "points": _points(now, minutes, "GAUGE", lambda age: {"doubleValue": round(f(age), 4)}),
    }


def delta_int(metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Callable[[int], int]) -> dict[str, Any]:
    return {
        "metric": metric, "resource": resource, "metricKind": "DELTA", "valueType": "INT64",
        "points": _points(now, minutes, "DELTA", lambda age: {"int64Value": str(f(age))}),
    }


def fraction_distribution(samples: list[float]) -> dict[str, Any]:
    """A DISTRIBUTION of fractions in 10 linear buckets of 0.1 (plus under- and overflow)."""
    counts = [0] * 12
    for sample in samples:
        counts[min(11, max(0, int(sample * 10) + 1))] += 1
    mean = sum(samples) / len(samples)
    return {
        "count": str(len(samples)),
        "mean": round(mean, 4),
        "sumOfSquaredDeviation": round(sum((s - mean) ** 2 for s in samples), 6),
        "bucketOptions": {"linearBuckets": {"numFiniteBuckets": 10, "width": 0.1, "offset": 0}},
        "bucketCounts": [str(c) for c in counts],
    }


def gauge_distribution(metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Callable[[int], list[float]]) -> dict[str, Any]:
    return {
        "metric": metric, "resource": resource, "metricKind": "GAUGE", "valueType": "DISTRIBUTION",
        "points": _points(now, minutes, "GAUGE", lambda age: {"distributionValue": fraction_distribution(f(age))}),
    }


def ms_distribution(samples: list[float]) -> dict[str, Any]:
    """A DISTRIBUTION of milliseconds in exponential buckets (1 ms growing by 2: 1, 2, 4, ... ms)."""
    counts = [0] * 22
    for sample in samples:
        index = 0 if sample < 1 else min(21, int(sample).bit_length())
        counts[index] += 1
    mean = sum(samples) / len(samples)
    return {
        "count": str(len(samples)),
        "mean": round(mean, 3),
        "sumOfSquaredDeviation": round(sum((s - mean) ** 2 for s in samples), 3),
        "bucketOptions": {"exponentialBuckets": {"numFiniteBuckets": 20, "growthFactor": 2, "scale": 1}},
        "bucketCounts": [str(c) for c in counts],
    }


def delta_distribution(metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    return {
        "metric": metric, "resource": resource, "metricKind": "DELTA", "valueType": "DISTRIBUTION",
        "points": _points(now, minutes, "DELTA", lambda age: {"distributionValue": f(age)}),
    }


def gauge_bool(metric: dict[str, Any], resource: dict[str, Any], now: datetime, minutes: int, f: Callable[[int], bool]) -> dict[str, Any]:
    return {
        "metric": metric, "resource": resource, "metricKind": "GAUGE", "valueType": "BOOL",
        "points": _points(now, minutes, "GAUGE", lambda age: {"boolValue": f(age)}),
    }
