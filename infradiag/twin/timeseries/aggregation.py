"""The Aggregation of a ListTimeSeries request: google/monitoring/v3/common.proto, message Aggregation.

Which aligners and reducers apply to which metric kinds and value types, the value type they yield, and
how a group of values combines (MIN, MAX, SUM, MEAN, COUNT..., PERCENTILE_nn).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infradiag.twin.timeseries.errors import InvalidArgument, unsupported
from infradiag.twin.timeseries.filters import SERIES_FIELD_RE
from infradiag.twin.timeseries.values import (
    MICROS,
    VALUE_FIELDS,
    Distribution,
    Value,
    distribution_percentile,
    merge_distributions,
    parse_duration,
    values_percentile,
)

_NUMERIC = frozenset({"INT64", "DOUBLE"})
PERCENTILES = {"PERCENTILE_99": 99.0, "PERCENTILE_95": 95.0, "PERCENTILE_50": 50.0, "PERCENTILE_05": 5.0}


@dataclass(frozen=True)
class _AlignerRule:
    kinds: frozenset[str]
    value_types: frozenset[str]
    out_kind: str | None  # None: the input's kind (common.proto documents no change of kind)


_GD = frozenset({"GAUGE", "DELTA"})
_PERCENTILE_RULE = _AlignerRule(_GD, frozenset({"DISTRIBUTION"}), "GAUGE")
# Validity and output kinds as common.proto documents each Aligner.
ALIGNERS: dict[str, _AlignerRule] = {
    "ALIGN_DELTA": _AlignerRule(frozenset({"CUMULATIVE", "DELTA"}), _NUMERIC | {"DISTRIBUTION"}, "DELTA"),
    "ALIGN_RATE": _AlignerRule(frozenset({"CUMULATIVE", "DELTA"}), _NUMERIC, "GAUGE"),
    "ALIGN_NEXT_OLDER": _AlignerRule(frozenset({"GAUGE"}), frozenset(VALUE_FIELDS), "GAUGE"),
    "ALIGN_MIN": _AlignerRule(_GD, _NUMERIC, None),
    "ALIGN_MAX": _AlignerRule(_GD, _NUMERIC, None),
    "ALIGN_MEAN": _AlignerRule(_GD, _NUMERIC, None),
    "ALIGN_COUNT": _AlignerRule(_GD, _NUMERIC | {"BOOL"}, None),
    "ALIGN_SUM": _AlignerRule(_GD, _NUMERIC | {"DISTRIBUTION"}, None),
    "ALIGN_COUNT_TRUE": _AlignerRule(frozenset({"GAUGE"}), frozenset({"BOOL"}), None),
    "ALIGN_COUNT_FALSE": _AlignerRule(frozenset({"GAUGE"}), frozenset({"BOOL"}), None),
    "ALIGN_FRACTION_TRUE": _AlignerRule(frozenset({"GAUGE"}), frozenset({"BOOL"}), None),
    **{f"ALIGN_{name}": _PERCENTILE_RULE for name in PERCENTILES},
}
_UNSUPPORTED_ALIGNERS = frozenset({"ALIGN_INTERPOLATE", "ALIGN_STDDEV", "ALIGN_PERCENT_CHANGE"})

# Value types each Reducer accepts, per common.proto (reducers apply to aligned GAUGE or DELTA data).
REDUCERS: dict[str, frozenset[str]] = {
    "REDUCE_MEAN": _NUMERIC,
    "REDUCE_MIN": _NUMERIC,
    "REDUCE_MAX": _NUMERIC,
    "REDUCE_SUM": _NUMERIC | {"DISTRIBUTION"},
    "REDUCE_COUNT": frozenset(VALUE_FIELDS),
    "REDUCE_COUNT_TRUE": frozenset({"BOOL"}),
    "REDUCE_COUNT_FALSE": frozenset({"BOOL"}),
    "REDUCE_FRACTION_TRUE": frozenset({"BOOL"}),
    **{f"REDUCE_{name}": _NUMERIC | {"DISTRIBUTION"} for name in PERCENTILES},
}
_UNSUPPORTED_REDUCERS = frozenset({"REDUCE_STDDEV"})
_MIN_PERIOD = 60 * MICROS  # common.proto: "The value must be at least 60 seconds."
_MAX_PERIOD = 104 * 7 * 86_400 * MICROS  # common.proto: at most 104 weeks


def combined_type(op: str, value_type: str) -> str:
    """Value type of MIN, MAX, SUM, MEAN, COUNT... applied to values of `value_type` (common.proto)."""
    if op in ("MEAN", "FRACTION_TRUE") or op in PERCENTILES:
        return "DOUBLE"
    if op in ("COUNT", "COUNT_TRUE", "COUNT_FALSE"):
        return "INT64"
    return value_type


@dataclass(frozen=True)
class GroupField:
    """A groupByFields entry: a metric or resource label, or the part's type."""

    part: str  # metric | resource
    label: str | None  # None: the type


@dataclass(frozen=True)
class Aggregation:
    """A validated Aggregation: aligner, reducer, alignment period and grouping."""

    aligner: str
    reducer: str
    period: int  # microseconds; 0 when not aligning
    group_by: tuple[GroupField, ...]


def _parse_group_field(text: str) -> GroupField:
    match = SERIES_FIELD_RE.match(text.strip())
    if match is None:
        raise unsupported(f"groupByFields entry {text!r} (the twin groups by metric or resource labels)")
    return GroupField(match.group(1), match.group(3))


def parse_aggregation(raw: Mapping[str, Any] | None) -> Aggregation:
    """Validate a REST Aggregation as common.proto documents it, or raise InvalidArgument."""
    raw = raw or {}
    aligner = str(raw.get("perSeriesAligner", "ALIGN_NONE"))
    reducer = str(raw.get("crossSeriesReducer", "REDUCE_NONE"))
    if aligner in _UNSUPPORTED_ALIGNERS:
        raise unsupported(aligner)
    if reducer in _UNSUPPORTED_REDUCERS:
        raise unsupported(reducer)
    if aligner != "ALIGN_NONE" and aligner not in ALIGNERS:
        raise InvalidArgument(f"aggregation.perSeriesAligner: unknown aligner {aligner}")
    if reducer != "REDUCE_NONE" and reducer not in REDUCERS:
        raise InvalidArgument(f"aggregation.crossSeriesReducer: unknown reducer {reducer}")
    if reducer != "REDUCE_NONE" and aligner == "ALIGN_NONE":
        # common.proto: a cross_series_reducer needs a per_series_aligner other than ALIGN_NONE.
        raise InvalidArgument(
            "aggregation: crossSeriesReducer requires a perSeriesAligner other than ALIGN_NONE"
        )
    if aligner == "ALIGN_NONE":
        return Aggregation(aligner, reducer, 0, ())
    return Aggregation(aligner, reducer, _alignment_period(raw), _group_by(raw, reducer))


def _alignment_period(raw: Mapping[str, Any]) -> int:
    # common.proto: required with any aligner other than ALIGN_NONE; at least 60 s, at most 104 weeks.
    text = raw.get("alignmentPeriod")
    if not text:
        raise InvalidArgument("aggregation: alignmentPeriod is required with a perSeriesAligner")
    period = parse_duration(str(text))
    if not _MIN_PERIOD <= period <= _MAX_PERIOD:
        raise InvalidArgument("aggregation.alignmentPeriod must be at least 60 seconds and at most 104 weeks")
    return period


def _group_by(raw: Mapping[str, Any], reducer: str) -> tuple[GroupField, ...]:
    # common.proto: without a cross_series_reducer, group_by_fields is ignored.
    if reducer == "REDUCE_NONE":
        return ()
    return tuple(_parse_group_field(str(text)) for text in raw.get("groupByFields", ()))


def combine(op: str, values: Sequence[Value], value_type: str) -> Value | None:
    """MIN, MAX, SUM, MEAN, COUNT, COUNT_TRUE, COUNT_FALSE, FRACTION_TRUE or PERCENTILE_nn of values."""
    if op == "COUNT":
        return len(values)
    if op in ("COUNT_TRUE", "COUNT_FALSE", "FRACTION_TRUE"):
        trues = sum(1 for v in values if v is True)
        if op == "FRACTION_TRUE":
            return trues / len(values)
        return trues if op == "COUNT_TRUE" else len(values) - trues
    if value_type == "DISTRIBUTION":
        merged = merge_distributions([v for v in values if isinstance(v, Distribution)])
        return merged if op == "SUM" else distribution_percentile(merged, PERCENTILES[op])
    numbers = [v for v in values if isinstance(v, int | float)]
    if op in PERCENTILES:
        return values_percentile(numbers, PERCENTILES[op])
    if op == "MIN":
        return min(numbers)
    if op == "MAX":
        return max(numbers)
    if op == "SUM":
        return sum(numbers)
    if op == "MEAN":
        return sum(numbers) / len(numbers)
    raise AssertionError(f"unreachable: {op} is validated before combining")
