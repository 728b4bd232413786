"""Times, durations and point values (TypedValue, google/api/distribution.proto) of REST-form TimeSeries."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from infradiag.twin.timeseries.errors import InvalidArgument, JsonDict, ScenarioDataError, unsupported

MICROS = 1_000_000
_DURATION_RE = re.compile(r"^(\d+)(?:\.(\d{1,9}))?s$")


def micros(moment: datetime) -> int:
    """Microseconds since the epoch (a naive datetime is read as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def parse_timestamp(text: Any, where: str) -> int:
    """An RFC 3339 timestamp from scenario data, in microseconds."""
    try:
        return micros(datetime.fromisoformat(str(text)))
    except ValueError:
        raise ScenarioDataError(f"{where}: {text!r} is not an RFC 3339 timestamp") from None


def format_timestamp(micros: int) -> str:
    """RFC 3339 in UTC with a Z, with microseconds only when they are not zero."""
    seconds, fraction = divmod(micros, MICROS)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{fraction:06d}Z" if fraction else f"{text}Z"


def parse_duration(text: str) -> int:
    """A protobuf JSON duration such as "60s" or "1.5s", in microseconds (sub-microsecond digits dropped)."""
    match = _DURATION_RE.match(text.strip())
    if match is None:
        raise InvalidArgument(f'invalid duration {text!r}: write seconds such as "60s"')
    fraction = (match.group(2) or "").ljust(6, "0")[:6]
    return int(match.group(1)) * MICROS + int(fraction)


@dataclass(frozen=True)
class Distribution:
    """The parts of a google.api.Distribution that aligning and reducing use."""

    count: int
    mean: float
    sum_of_squared_deviation: float
    bucket_options: Mapping[str, Any] | None
    bucket_counts: tuple[int, ...]


Value: TypeAlias = int | float | bool | str | Distribution


def _parse_distribution(raw: Mapping[str, Any]) -> Distribution:
    return Distribution(
        count=int(raw.get("count", 0)),
        mean=float(raw.get("mean", 0.0)),
        sum_of_squared_deviation=float(raw.get("sumOfSquaredDeviation", 0.0)),
        bucket_options=raw.get("bucketOptions"),
        bucket_counts=tuple(int(c) for c in raw.get("bucketCounts", ())),
    )


# The TypedValue field that holds a point's value, by the series' valueType.
VALUE_FIELDS = {
    "INT64": "int64Value",
    "DOUBLE": "doubleValue",
    "BOOL": "boolValue",
    "STRING": "stringValue",
    "DISTRIBUTION": "distributionValue",
}


def parse_value(raw: Mapping[str, Any], value_type: str, where: str) -> Value:
    """A point's TypedValue for the series' valueType, from scenario data."""
    key = VALUE_FIELDS.get(value_type)
    if key is None:
        raise unsupported(f"aggregating {value_type} values")
    if key not in raw:
        raise ScenarioDataError(f"{where}: a {value_type} point needs value.{key}")
    item = raw[key]
    try:
        if value_type == "INT64":
            return int(item)
        if value_type == "DOUBLE":
            return float(item)
        if value_type == "DISTRIBUTION":
            return _parse_distribution(item)
    except (TypeError, ValueError):
        raise ScenarioDataError(f"{where}: value.{key} {item!r} is not a valid {value_type}") from None
    if value_type == "BOOL" and not isinstance(item, bool):
        raise ScenarioDataError(f"{where}: value.boolValue must be true or false")
    return item if value_type == "BOOL" else str(item)


def value_json(value: Value, value_type: str) -> JsonDict:
    """A TypedValue in REST form (int64 as a string, as the REST API writes it)."""
    if isinstance(value, Distribution):
        return {"distributionValue": _distribution_json(value)}
    if value_type == "INT64":
        return {"int64Value": str(value)}
    return {VALUE_FIELDS[value_type]: value}


def _distribution_json(dist: Distribution) -> JsonDict:
    out: JsonDict = {
        "count": str(dist.count),
        "mean": dist.mean,
        "sumOfSquaredDeviation": dist.sum_of_squared_deviation,
    }
    if dist.bucket_options is not None:
        out["bucketOptions"] = dict(dist.bucket_options)
        out["bucketCounts"] = [str(c) for c in dist.bucket_counts]
    return out


def _bucket_bounds(options: Mapping[str, Any]) -> list[tuple[float, float]]:
    """(lower, upper) of every bucket, underflow and overflow included, per distribution.proto."""
    if "explicitBuckets" in options:
        bounds = [float(b) for b in options["explicitBuckets"].get("bounds", [])]
    elif "linearBuckets" in options:
        spec = options["linearBuckets"]
        n, width, offset = (
            int(spec.get("numFiniteBuckets", 0)),
            float(spec["width"]),
            float(spec.get("offset", 0)),
        )
        bounds = [offset + width * i for i in range(n + 1)]
    elif "exponentialBuckets" in options:
        spec = options["exponentialBuckets"]
        n, growth, scale = (
            int(spec.get("numFiniteBuckets", 0)),
            float(spec["growthFactor"]),
            float(spec["scale"]),
        )
        bounds = [scale * growth**i for i in range(n + 1)]
    else:
        raise ScenarioDataError(f"unknown bucketOptions {dict(options)!r}")
    return list(itertools.pairwise([-math.inf, *bounds, math.inf]))


def _full_counts(dist: Distribution) -> list[int]:
    if dist.bucket_options is None:
        raise unsupported("a percentile of a distribution without buckets")
    size = len(_bucket_bounds(dist.bucket_options))
    if len(dist.bucket_counts) > size:
        raise ScenarioDataError(f"{len(dist.bucket_counts)} bucketCounts for {size} buckets")
    # distribution.proto: fewer than N bucket_counts means the remaining ones are 0.
    return [*dist.bucket_counts, *([0] * (size - len(dist.bucket_counts)))]


def merge_distributions(dists: Sequence[Distribution]) -> Distribution:
    """The distribution of the union of the populations (same bucketOptions required)."""
    options = dists[0].bucket_options
    if any(d.bucket_options != options for d in dists):
        raise unsupported("combining distributions with different bucketOptions")
    count = sum(d.count for d in dists)
    mean = sum(d.count * d.mean for d in dists) / count if count else 0.0
    # Parallel form of Welford's sum of squared deviations (Chan et al.).
    ssd = sum(d.sum_of_squared_deviation + d.count * (d.mean - mean) ** 2 for d in dists)
    counts: tuple[int, ...] = ()
    if options is not None:
        counts = tuple(sum(column) for column in zip(*(_full_counts(d) for d in dists), strict=True))
    return Distribution(count, mean, ssd, options, counts)


def distribution_percentile(dist: Distribution, percent: float) -> float | None:
    """The percentile estimated from the histogram, or None for an empty distribution.

    Interpolation (Google does not document its own): the target rank is percent/100 * N over the
    bucket counts; inside the bucket that holds it, the value is interpolated linearly between the
    bucket's bounds as if its values were spread evenly. A rank in the unbounded underflow or overflow
    bucket yields that bucket's finite bound.
    """
    counts = _full_counts(dist)
    total = sum(counts)
    if total == 0:
        return None
    rank = percent / 100 * total
    below = 0
    for (lower, upper), count in zip(_bucket_bounds(dist.bucket_options or {}), counts, strict=True):
        if count and below + count >= rank:
            if math.isinf(lower):
                return upper
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - below) / count
        below += count
    raise AssertionError("unreachable: the rank is at most the total count")


def values_percentile(values: Sequence[float], percent: float) -> float:
    """Percentile of plain numbers by linear interpolation between closest ranks (rank = p/100*(n-1)).

    Google does not document its interpolation for REDUCE_PERCENTILE_* on numbers; this is the common
    definition (numpy's default).
    """
    ordered = sorted(values)
    position = percent / 100 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
