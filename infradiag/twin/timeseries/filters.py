"""The Monitoring filter language: https://cloud.google.com/monitoring/api/v3/filters

Parsing, validation for ListTimeSeries (exactly one metric type, selectors not intermixed) and evaluation
against REST-form TimeSeries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from infradiag.twin.timeseries.errors import InvalidArgument, unsupported

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
    """A literal right-hand side: a string, a number or a boolean."""

    value: str | float | bool


@dataclass(frozen=True)
class Call:
    """A string function on the right-hand side, such as starts_with("x")."""

    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """`field op value`."""

    field: str
    op: str
    rhs: Constant | Call


@dataclass(frozen=True)
class Not:
    """NOT of an expression."""

    operand: Expr


@dataclass(frozen=True)
class Junction:
    """Operands joined by one logical operator."""

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
            raise unsupported("mixing AND and OR without parentheses")
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
        raise unsupported("the ':' (has) operator")
    if isinstance(rhs, Call):
        if rhs.name == "monitoring.regex.full_match":
            raise unsupported("monitoring.regex.full_match (RE2 semantics)")
        if rhs.name not in _STRING_FUNCTIONS:
            raise InvalidArgument(f"filter: unknown function {rhs.name}")
        if op != "=":
            raise unsupported(f"{op} with a function on the right-hand side")
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


SERIES_FIELD_RE = re.compile(r"^(metric|resource)\.(?:(type)|labels?\.([A-Za-z0-9_./-]+))$")


@dataclass(frozen=True)
class _FieldRef:
    part: str  # metric | resource
    label: str | None  # None: the part's `type`


def _series_field(field: str) -> _FieldRef:
    match = SERIES_FIELD_RE.match(field)
    if match is None:
        if field.split(".", 1)[0] in ("project", "group", "metadata"):
            raise unsupported(f"the {field} selector")
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
        raise unsupported('selecting the metric type other than by metric.type = "TYPE"')
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
