"""Cloud Monitoring v3 `ListTimeSeries` semantics over REST-form TimeSeries dicts: pure Python, no gRPC.

Sources, cited again where the code depends on them:
- filters: https://cloud.google.com/monitoring/api/v3/filters
- intervals, aligners, reducers: google/monitoring/v3/common.proto (TimeInterval, Aggregation)
- the request and paging: google/monitoring/v3/metric_service.proto (ListTimeSeriesRequest)
- distributions: google/api/distribution.proto

The twin answers only what it can answer as Google documents it. Anything else raises InvalidArgument;
messages that start with "twin:" mark a query that Google may accept but the twin cannot answer
exactly.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, TypeAlias

JsonDict: TypeAlias = dict[str, Any]


class InvalidArgument(Exception):
    """A request that Google rejects with INVALID_ARGUMENT, or one the twin cannot answer exactly."""


class ScenarioDataError(ValueError):
    """The scenario's time series data is malformed (a twin configuration error, not a request error)."""


def _unsupported(what: str) -> InvalidArgument:
    return InvalidArgument(
        f"twin: {what} is not supported (the twin answers only what it can answer exactly)"
    )


# ---------------------------------------------------------------------------------------------------------
# Filter language: https://cloud.google.com/monitoring/api/v3/filters
# ---------------------------------------------------------------------------------------------------------

_KEYWORDS = frozenset({"AND", "OR", "NOT"})
_STRING_FUNCTIONS = frozenset({"starts_with", "ends_with", "has_substring", "one_of"})
_ORDER_OPS = frozenset({"<", ">", "<=", ">="})
_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z0-9_.]))
    | (?P<op>!=|<=|>=|=|<|>|:)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Constant:
    value: str | float | bool


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    rhs: Constant | Call


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class Junction:
    op: str  # AND | OR
    operands: tuple[Expr, ...]


Expr: TypeAlias = Comparison | Not | Junction


@dataclass(frozen=True)
class _Token:
    kind: str  # string | number | op | punct | word | end
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while text[pos:].strip():
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.lastgroup is None:
            raise InvalidArgument(
                f"filter: unexpected character at position {pos + 1}: {text[pos:].strip()!r}"
            )
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup)))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


class _Parser:
    """Recursive descent over `term {AND|OR term}`, `NOT term`, `( expr )` and `field op value`."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
        self._index = 0

    def parse(self) -> Expr:
        if self._peek().kind == "end":
            raise InvalidArgument("filter: the filter is empty")
        expr = self._expression()
        if self._peek().kind != "end":
            raise self._error("expected AND, OR or the end of the filter")
        return expr

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _next(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def _error(self, expected: str) -> InvalidArgument:
        token = self._peek()
        found = token.text or "end of filter"
        return InvalidArgument(f"filter: {expected} at position {token.pos + 1}, found {found!r}")

    def _expression(self) -> Expr:
        operands = [self._term()]
        ops: set[str] = set()
        while self._peek().kind == "word" and self._peek().text in ("AND", "OR"):
            ops.add(self._next().text)
            operands.append(self._term())
        if len(ops) > 1:
            # The filters page's grammar only chains one logical operator per level; the twin does not
            # guess a precedence for an unparenthesised mix.
            raise _unsupported("mixing AND and OR without parentheses")
        return operands[0] if not ops else Junction(ops.pop(), tuple(operands))

    def _term(self) -> Expr:
        token = self._peek()
        if token.kind == "word" and token.text == "NOT":
            self._next()
            return Not(self._term())
        if token.text == "(":
            self._next()
            expr = self._expression()
            if self._peek().text != ")":
                raise self._error("expected ')'")
            self._next()
            return expr
        return self._comparison()

    def _comparison(self) -> Comparison:
        field = self._peek()
        if field.kind != "word" or field.text in _KEYWORDS:
            raise self._error("expected a field such as metric.type")
        self._next()
        if self._peek().kind != "op":
            raise self._error(f"expected an operator after {field.text}")
        op = self._next().text
        comparison = Comparison(field.text, op, self._value())
        _check_comparison(comparison)
        return comparison

    def _value(self) -> Constant | Call:
        token = self._peek()
        if token.kind not in ("string", "number", "word"):
            raise self._error("expected a quoted string, a number, true, false or a function")
        self._next()
        if token.kind == "string":
            return Constant(_unquote(token.text))
        if token.kind == "number":
            return Constant(float(token.text))
        if token.text in ("true", "false"):
            return Constant(token.text == "true")
        if self._peek().text != "(":
            raise self._error(f"expected '(' after function {token.text}")
        self._next()
        return Call(token.text, self._arguments())

    def _arguments(self) -> tuple[str, ...]:
        args: list[str] = []
        while True:
            if self._peek().kind != "string":
                raise self._error("expected a quoted string argument")
            args.append(_unquote(self._next().text))
            if self._peek().text not in (",", ")"):
                raise self._error("expected ',' or ')'")
            if self._next().text == ")":
                return tuple(args)


def _check_comparison(comparison: Comparison) -> None:
    op, rhs = comparison.op, comparison.rhs
    if op == ":":
        raise _unsupported("the ':' (has) operator")
    if isinstance(rhs, Call):
        if rhs.name == "monitoring.regex.full_match":
            raise _unsupported("monitoring.regex.full_match (RE2 semantics)")
        if rhs.name not in _STRING_FUNCTIONS:
            raise InvalidArgument(f"filter: unknown function {rhs.name}")
        if op != "=":
            raise _unsupported(f"{op} with a function on the right-hand side")
        if rhs.name != "one_of" and len(rhs.args) != 1:
            raise InvalidArgument(f"filter: {rhs.name} takes exactly one argument")
    elif op in _ORDER_OPS and not (isinstance(rhs.value, float) and not isinstance(rhs.value, bool)):
        raise InvalidArgument(f"filter: {op} compares numbers only")


def parse_filter(text: str) -> Expr:
    """Parse a Monitoring filter into an expression tree, or raise InvalidArgument naming the problem."""
    return _Parser(text).parse()


def comparisons(expr: Expr) -> Iterable[Comparison]:
    """Every comparison in the expression, left to right."""
    if isinstance(expr, Comparison):
        yield expr
    elif isinstance(expr, Not):
        yield from comparisons(expr.operand)
    else:
        for operand in expr.operands:
            yield from comparisons(operand)


def _conjuncts(expr: Expr) -> list[Expr]:
    if isinstance(expr, Junction) and expr.op == "AND":
        return [part for operand in expr.operands for part in _conjuncts(operand)]
    return [expr]


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _literal_equals(actual: str, value: str | float | bool) -> bool:
    if isinstance(value, bool):
        return actual == ("true" if value else "false")
    if isinstance(value, float):
        return _as_number(actual) == value
    return actual == value


def _ordered(actual: str, op: str, value: float) -> bool:
    number = _as_number(actual)
    if number is None:
        return False
    return {"<": number < value, ">": number > value, "<=": number <= value, ">=": number >= value}[op]


def _call_matches(actual: str, call: Call) -> bool:
    if call.name == "one_of":
        return actual in call.args
    arg = call.args[0]
    return {
        "starts_with": actual.startswith(arg),
        "ends_with": actual.endswith(arg),
        "has_substring": arg in actual,
    }[call.name]


def _compare(actual: str | None, op: str, rhs: Constant | Call) -> bool:
    # `a != v` is read as NOT (a = v), so a series without label a matches it.
    if op == "!=":
        return not _compare(actual, "=", rhs)
    if actual is None:
        return False
    if isinstance(rhs, Call):
        return _call_matches(actual, rhs)
    if op == "=":
        return _literal_equals(actual, rhs.value)
    return _ordered(actual, op, float(rhs.value))


def evaluate(expr: Expr, resolve: Callable[[str], str | None]) -> bool:
    """Whether the expression holds, reading each field's value (None: absent) through `resolve`."""
    if isinstance(expr, Comparison):
        return _compare(resolve(expr.field), expr.op, expr.rhs)
    if isinstance(expr, Not):
        return not evaluate(expr.operand, resolve)
    results = (evaluate(operand, resolve) for operand in expr.operands)
    return all(results) if expr.op == "AND" else any(results)


def label_text(value: Any) -> str:
    """A label value as the REST API writes it (labels are strings; YAML booleans become true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_SERIES_FIELD_RE = re.compile(r"^(metric|resource)\.(?:(type)|labels?\.([A-Za-z0-9_./-]+))$")


@dataclass(frozen=True)
class _FieldRef:
    part: str  # metric | resource
    label: str | None  # None: the part's `type`


def _series_field(field: str) -> _FieldRef:
    match = _SERIES_FIELD_RE.match(field)
    if match is None:
        if field.split(".", 1)[0] in ("project", "group", "metadata"):
            raise _unsupported(f"the {field} selector")
        raise InvalidArgument(f"filter: unknown field {field} for time series")
    return _FieldRef(match.group(1), match.group(3))


def _resolve_series(series: Mapping[str, Any], ref: _FieldRef) -> str | None:
    part = series.get(ref.part) or {}
    value = part.get("type") if ref.label is None else (part.get("labels") or {}).get(ref.label)
    return None if value is None else label_text(value)


def _selector_parts(expr: Expr) -> set[str]:
    return {_series_field(c.field).part for c in comparisons(expr)}


def _check_selectors_not_intermixed(expr: Expr) -> None:
    # Filters page, "Filter syntax reference": comparisons for different selectors must not be
    # intermixed, so an OR (or a NOT over a group) stays within the metric or the resource selector.
    if isinstance(expr, Comparison):
        return
    if (isinstance(expr, Not) or expr.op == "OR") and len(_selector_parts(expr)) > 1:
        raise InvalidArgument(
            "filter: comparisons of the metric and resource selectors must not be intermixed"
        )
    for operand in (expr.operand,) if isinstance(expr, Not) else expr.operands:
        _check_selectors_not_intermixed(operand)


def _single_metric_type(expr: Expr) -> str:
    # Filters page: "When listing time series, you must specify exactly one metric type."
    type_comparisons = [c for c in comparisons(expr) if _series_field(c.field) == _FieldRef("metric", None)]
    top_level = [c for c in _conjuncts(expr) if isinstance(c, Comparison) and c in type_comparisons]
    if len(type_comparisons) != 1 or len(top_level) != 1:
        raise InvalidArgument(
            'filter: a time series filter must name exactly one metric type: metric.type = "TYPE"'
        )
    comparison = top_level[0]
    if (
        comparison.op != "="
        or not isinstance(comparison.rhs, Constant)
        or not isinstance(comparison.rhs.value, str)
    ):
        raise _unsupported('selecting the metric type other than by metric.type = "TYPE"')
    return comparison.rhs.value


@dataclass(frozen=True)
class TimeSeriesFilter:
    """A validated ListTimeSeries filter."""

    expression: Expr
    metric_type: str

    def matches(self, series: Mapping[str, Any]) -> bool:
        """Whether a REST-form TimeSeries satisfies the filter."""
        return evaluate(self.expression, lambda field: _resolve_series(series, _series_field(field)))


def parse_time_series_filter(text: str) -> TimeSeriesFilter:
    """Parse and validate a ListTimeSeries filter (exactly one metric type; selectors not intermixed)."""
    expr = parse_filter(text)
    for comparison in comparisons(expr):
        _series_field(comparison.field)
    _check_selectors_not_intermixed(expr)
    return TimeSeriesFilter(expr, _single_metric_type(expr))


# ---------------------------------------------------------------------------------------------------------
# Times, durations and values
# ---------------------------------------------------------------------------------------------------------

_MICROS = 1_000_000
_DURATION_RE = re.compile(r"^(\d+)(?:\.(\d{1,9}))?s$")


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * _MICROS + delta.microseconds


def _parse_timestamp(text: Any, where: str) -> int:
    try:
        return _micros(datetime.fromisoformat(str(text)))
    except ValueError:
        raise ScenarioDataError(f"{where}: {text!r} is not an RFC 3339 timestamp") from None


def format_timestamp(micros: int) -> str:
    """RFC 3339 in UTC with a Z, with microseconds only when they are not zero."""
    seconds, fraction = divmod(micros, _MICROS)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{fraction:06d}Z" if fraction else f"{text}Z"


def parse_duration(text: str) -> int:
    """A protobuf JSON duration such as "60s" or "1.5s", in microseconds (sub-microsecond digits dropped)."""
    match = _DURATION_RE.match(text.strip())
    if match is None:
        raise InvalidArgument(f'invalid duration {text!r}: write seconds such as "60s"')
    fraction = (match.group(2) or "").ljust(6, "0")[:6]
    return int(match.group(1)) * _MICROS + int(fraction)


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


def _parse_value(raw: Mapping[str, Any], value_type: str, where: str) -> Value:
    key = VALUE_FIELDS.get(value_type)
    if key is None:
        raise _unsupported(f"aggregating {value_type} values")
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


# ---------------------------------------------------------------------------------------------------------
# Distributions: google/api/distribution.proto
# ---------------------------------------------------------------------------------------------------------


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
        raise _unsupported("a percentile of a distribution without buckets")
    size = len(_bucket_bounds(dist.bucket_options))
    if len(dist.bucket_counts) > size:
        raise ScenarioDataError(f"{len(dist.bucket_counts)} bucketCounts for {size} buckets")
    # distribution.proto: fewer than N bucket_counts means the remaining ones are 0.
    return [*dist.bucket_counts, *([0] * (size - len(dist.bucket_counts)))]


def merge_distributions(dists: Sequence[Distribution]) -> Distribution:
    """The distribution of the union of the populations (same bucketOptions required)."""
    options = dists[0].bucket_options
    if any(d.bucket_options != options for d in dists):
        raise _unsupported("combining distributions with different bucketOptions")
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


# ---------------------------------------------------------------------------------------------------------
# Aggregation: google/monitoring/v3/common.proto, message Aggregation
# ---------------------------------------------------------------------------------------------------------

_NUMERIC = frozenset({"INT64", "DOUBLE"})
_PERCENTILES = {"PERCENTILE_99": 99.0, "PERCENTILE_95": 95.0, "PERCENTILE_50": 50.0, "PERCENTILE_05": 5.0}


@dataclass(frozen=True)
class _AlignerRule:
    kinds: frozenset[str]
    value_types: frozenset[str]
    out_kind: str | None  # None: the input's kind (common.proto documents no change of kind)


_GD = frozenset({"GAUGE", "DELTA"})
_PERCENTILE_RULE = _AlignerRule(_GD, frozenset({"DISTRIBUTION"}), "GAUGE")
# Validity and output kinds as common.proto documents each Aligner.
_ALIGNERS: dict[str, _AlignerRule] = {
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
    **{f"ALIGN_{name}": _PERCENTILE_RULE for name in _PERCENTILES},
}
_UNSUPPORTED_ALIGNERS = frozenset({"ALIGN_INTERPOLATE", "ALIGN_STDDEV", "ALIGN_PERCENT_CHANGE"})

# Value types each Reducer accepts, per common.proto (reducers apply to aligned GAUGE or DELTA data).
_REDUCERS: dict[str, frozenset[str]] = {
    "REDUCE_MEAN": _NUMERIC,
    "REDUCE_MIN": _NUMERIC,
    "REDUCE_MAX": _NUMERIC,
    "REDUCE_SUM": _NUMERIC | {"DISTRIBUTION"},
    "REDUCE_COUNT": frozenset(VALUE_FIELDS),
    "REDUCE_COUNT_TRUE": frozenset({"BOOL"}),
    "REDUCE_COUNT_FALSE": frozenset({"BOOL"}),
    "REDUCE_FRACTION_TRUE": frozenset({"BOOL"}),
    **{f"REDUCE_{name}": _NUMERIC | {"DISTRIBUTION"} for name in _PERCENTILES},
}
_UNSUPPORTED_REDUCERS = frozenset({"REDUCE_STDDEV"})
_MIN_PERIOD = 60 * _MICROS  # common.proto: "The value must be at least 60 seconds."
_MAX_PERIOD = 104 * 7 * 86_400 * _MICROS  # common.proto: at most 104 weeks


def _combined_type(op: str, value_type: str) -> str:
    """Value type of MIN, MAX, SUM, MEAN, COUNT... applied to values of `value_type` (common.proto)."""
    if op in ("MEAN", "FRACTION_TRUE") or op in _PERCENTILES:
        return "DOUBLE"
    if op in ("COUNT", "COUNT_TRUE", "COUNT_FALSE"):
        return "INT64"
    return value_type


@dataclass(frozen=True)
class _GroupField:
    part: str  # metric | resource
    label: str | None  # None: the type


@dataclass(frozen=True)
class _Aggregation:
    aligner: str
    reducer: str
    period: int  # microseconds; 0 when not aligning
    group_by: tuple[_GroupField, ...]


def _parse_group_field(text: str) -> _GroupField:
    match = _SERIES_FIELD_RE.match(text.strip())
    if match is None:
        raise _unsupported(f"groupByFields entry {text!r} (the twin groups by metric or resource labels)")
    return _GroupField(match.group(1), match.group(3))


def _parse_aggregation(raw: Mapping[str, Any] | None) -> _Aggregation:
    raw = raw or {}
    aligner = str(raw.get("perSeriesAligner", "ALIGN_NONE"))
    reducer = str(raw.get("crossSeriesReducer", "REDUCE_NONE"))
    if aligner in _UNSUPPORTED_ALIGNERS:
        raise _unsupported(aligner)
    if reducer in _UNSUPPORTED_REDUCERS:
        raise _unsupported(reducer)
    if aligner != "ALIGN_NONE" and aligner not in _ALIGNERS:
        raise InvalidArgument(f"aggregation.perSeriesAligner: unknown aligner {aligner}")
    if reducer != "REDUCE_NONE" and reducer not in _REDUCERS:
        raise InvalidArgument(f"aggregation.crossSeriesReducer: unknown reducer {reducer}")
    if reducer != "REDUCE_NONE" and aligner == "ALIGN_NONE":
        # common.proto: a cross_series_reducer needs a per_series_aligner other than ALIGN_NONE.
        raise InvalidArgument(
            "aggregation: crossSeriesReducer requires a perSeriesAligner other than ALIGN_NONE"
        )
    if aligner == "ALIGN_NONE":
        return _Aggregation(aligner, reducer, 0, ())
    return _Aggregation(aligner, reducer, _alignment_period(raw), _group_by(raw, reducer))


def _alignment_period(raw: Mapping[str, Any]) -> int:
    # common.proto: required with any aligner other than ALIGN_NONE; at least 60 s, at most 104 weeks.
    text = raw.get("alignmentPeriod")
    if not text:
        raise InvalidArgument("aggregation: alignmentPeriod is required with a perSeriesAligner")
    period = parse_duration(str(text))
    if not _MIN_PERIOD <= period <= _MAX_PERIOD:
        raise InvalidArgument("aggregation.alignmentPeriod must be at least 60 seconds and at most 104 weeks")
    return period


def _group_by(raw: Mapping[str, Any], reducer: str) -> tuple[_GroupField, ...]:
    # common.proto: without a cross_series_reducer, group_by_fields is ignored.
    if reducer == "REDUCE_NONE":
        return ()
    return tuple(_parse_group_field(str(text)) for text in raw.get("groupByFields", ()))


# ---------------------------------------------------------------------------------------------------------
# Series, intervals and alignment
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Point:
    start: int | None
    end: int
    value: Value


@dataclass(frozen=True)
class _Series:
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
            out.append((_parse_timestamp(interval.get("endTime"), f"{self.where()} point {index}"), point))
        return out

    def points(self) -> list[_Point]:
        """Every point parsed, oldest first."""
        parsed = []
        for index, point in enumerate(self.raw.get("points") or []):
            where = f"{self.where()} point {index}"
            interval = point.get("interval") or {}
            start = interval.get("startTime")
            parsed.append(
                _Point(
                    None if start is None else _parse_timestamp(start, where),
                    _parse_timestamp(interval.get("endTime"), where),
                    _parse_value(point.get("value") or {}, self.value_type, where),
                )
            )
        return sorted(parsed, key=lambda p: p.end)


@dataclass(frozen=True)
class _Interval:
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


def _interval(start_time: datetime | None, end_time: datetime) -> _Interval:
    end = _micros(end_time)
    start = end if start_time is None else _micros(start_time)
    if start > end:
        raise InvalidArgument("interval: the start time must not be later than the end time")
    return _Interval(start, end, start == end)


@dataclass
class _Aligned:
    metric: JsonDict
    resource: JsonDict
    kind: str
    value_type: str
    values: dict[int, Value]  # period end -> value


def _check_aligner(aligner: str, series: _Series) -> None:
    rule = _ALIGNERS[aligner]
    if series.kind not in rule.kinds or series.value_type not in rule.value_types:
        raise InvalidArgument(
            f"aggregation: {aligner} is not valid for {series.kind} {series.value_type} metrics "
            f"(valid: {'/'.join(sorted(rule.kinds))} {'/'.join(sorted(rule.value_types))})"
        )
    if aligner == "ALIGN_DELTA" and series.value_type == "DISTRIBUTION":
        raise _unsupported("ALIGN_DELTA on DISTRIBUTION values")


def _exact(value: Value) -> Fraction:
    if isinstance(value, Distribution | str):
        raise AssertionError("numeric values only: _check_aligner admits INT64 and DOUBLE here")
    return Fraction(value)


def _segments(series: _Series) -> list[tuple[int, int, Fraction]]:
    """The series as (start, end, increase) pieces: DELTA points as written, CUMULATIVE as differences."""
    pieces = []
    previous: _Point | None = None
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


def _align_change(series: _Series, agg: _Aggregation, ends: list[int]) -> dict[int, Value]:
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
            values[end] = float(increase / Fraction(agg.period, _MICROS))
        elif series.value_type == "DOUBLE":
            values[end] = float(increase)
        elif increase.denominator == 1:
            values[end] = int(increase)
        else:
            # Google's rounding of an interpolated INT64 share is undocumented: refuse rather than guess.
            raise _unsupported("ALIGN_DELTA of INT64 points that straddle an alignment boundary")
    return values


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
        return merged if op == "SUM" else distribution_percentile(merged, _PERCENTILES[op])
    numbers = [v for v in values if isinstance(v, int | float)]
    if op in _PERCENTILES:
        return values_percentile(numbers, _PERCENTILES[op])
    if op == "MIN":
        return min(numbers)
    if op == "MAX":
        return max(numbers)
    if op == "SUM":
        return sum(numbers)
    if op == "MEAN":
        return sum(numbers) / len(numbers)
    raise AssertionError(f"unreachable: {op} is validated before combining")


def _align_points(series: _Series, agg: _Aggregation, ends: list[int]) -> dict[int, Value]:
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
    return _combined_type(aligner.removeprefix("ALIGN_"), value_type)


def _align(series: _Series, agg: _Aggregation, ends: list[int]) -> _Aligned:
    _check_aligner(agg.aligner, series)
    if agg.aligner in ("ALIGN_DELTA", "ALIGN_RATE"):
        values = _align_change(series, agg, ends)
    else:
        values = _align_points(series, agg, ends)
    return _Aligned(
        metric=dict(series.raw.get("metric") or {}),
        resource=dict(series.raw.get("resource") or {}),
        kind=_ALIGNERS[agg.aligner].out_kind or series.kind,
        value_type=_aligned_type(agg.aligner, series.value_type),
        values=values,
    )


# ---------------------------------------------------------------------------------------------------------
# Reduction
# ---------------------------------------------------------------------------------------------------------


def _group_key(aligned: _Aligned, fields: tuple[_GroupField, ...]) -> tuple[str | None, ...]:
    # common.proto: group_by_fields "implicitly contains resource.type".
    key: list[str | None] = [aligned.resource.get("type")]
    for field in fields:
        part = aligned.metric if field.part == "metric" else aligned.resource
        value = part.get("type") if field.label is None else (part.get("labels") or {}).get(field.label)
        key.append(None if value is None else label_text(value))
    return tuple(key)


def _kept_part(source: JsonDict, part: str, fields: tuple[_GroupField, ...]) -> JsonDict:
    kept: JsonDict = {"type": source.get("type")} if "type" in source else {}
    labels = source.get("labels") or {}
    chosen = {f.label: labels[f.label] for f in fields if f.part == part and f.label in labels}
    if chosen:
        kept["labels"] = chosen
    return kept


def _reduce(aligned: list[_Aligned], agg: _Aggregation) -> list[_Aligned]:
    groups: dict[tuple[str | None, ...], list[_Aligned]] = {}
    for item in aligned:
        groups.setdefault(_group_key(item, agg.group_by), []).append(item)
    return [_reduce_group(members, agg) for members in groups.values()]


def _reduce_group(members: list[_Aligned], agg: _Aggregation) -> _Aligned:
    first = members[0]
    if agg.reducer == "REDUCE_MEAN" and first.value_type == "DISTRIBUTION":
        raise _unsupported("REDUCE_MEAN of DISTRIBUTION values")
    if first.value_type not in _REDUCERS[agg.reducer]:
        raise InvalidArgument(f"aggregation: {agg.reducer} is not valid for {first.value_type} values")
    op = agg.reducer.removeprefix("REDUCE_")
    values: dict[int, Value] = {}
    for end in sorted({end for m in members for end in m.values}, reverse=True):
        combined = combine(op, [m.values[end] for m in members if end in m.values], first.value_type)
        if combined is not None:
            values[end] = combined
    return _Aligned(
        metric=_kept_part(first.metric, "metric", agg.group_by),
        resource=_kept_part(first.resource, "resource", agg.group_by),
        kind=first.kind,
        value_type=_combined_type(op, first.value_type),
        values=values,
    )


# ---------------------------------------------------------------------------------------------------------
# ListTimeSeries
# ---------------------------------------------------------------------------------------------------------


def _aligned_json(aligned: _Aligned, period: int) -> JsonDict:
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


def _raw_json(series: _Series, interval: _Interval) -> JsonDict:
    inside = [(end, point) for end, point in series.point_ends() if interval.contains(end)]
    inside.sort(key=lambda item: item[0], reverse=True)
    return {**series.raw, "points": [dict(point) for _, point in inside]}


def _has_point_in(series: _Series, interval: _Interval) -> bool:
    return any(interval.contains(end) for end, _ in series.point_ends())


def _selected(
    series: Iterable[Mapping[str, Any]], flt: TimeSeriesFilter, interval: _Interval
) -> list[_Series]:
    # metric_service.proto, interval: "Only time series that contain data points in the specified
    # interval are included in the response."
    chosen = []
    for raw in series:
        if not flt.matches(raw):
            continue
        parsed = _Series(raw, str(raw.get("metricKind", "")), str(raw.get("valueType", "")))
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
    agg = _parse_aggregation(aggregation)
    interval = _interval(start_time, end_time)
    chosen = _selected(series, flt, interval)
    if agg.aligner == "ALIGN_NONE":
        out = [_raw_json(s, interval) for s in chosen]
    else:
        ends = interval.period_ends(agg.period)
        aligned = [_align(s, agg, ends) for s in chosen]
        if agg.reducer != "REDUCE_NONE":
            aligned = _reduce(aligned, agg)
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
