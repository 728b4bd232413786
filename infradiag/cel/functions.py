"""CEL's standard functions that playbooks and probe checks may call: size, conversions, string tests."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from infradiag.cel.values import INT64_MIN, CelError, format_double, int64, overload, type_of


def _size(value: Any) -> int:
    if type(value) in (str, bytes, list, tuple, dict):
        return len(value)
    raise overload("size", value)


def _to_int(value: Any) -> int:
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is float:
        if math.isnan(value) or not INT64_MIN <= value < 2.0**63:
            raise CelError(f"int({value}) is out of range")
        return int(value)
    if kind is str:
        try:
            return int64(int(value, 10))
        except ValueError:
            raise CelError(f"int({value!r}): not an integer") from None
    raise overload("int", value)


def _to_double(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return float(value)
    if kind is int:
        return float(value)
    if kind is str:
        try:
            return float(value)
        except ValueError:
            raise CelError(f"double({value!r}): not a number") from None
    raise overload("double", value)


def _to_string(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return format_double(value)
    if kind is bytes:
        try:
            return str(value.decode())
        except UnicodeDecodeError:
            raise CelError("string(bytes): not valid UTF-8") from None
    raise overload("string", value)


_TRUE = frozenset({"true", "True", "TRUE", "t", "1"})
_FALSE = frozenset({"false", "False", "FALSE", "f", "0"})


def _to_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    if type(value) is str and value in _TRUE | _FALSE:
        return value in _TRUE
    raise overload("bool", value)


def _strings(name: str, test: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    def function(text: Any, other: Any) -> bool:
        if type(text) is not str or type(other) is not str:
            raise overload(name, text, other)
        return test(text, other)

    return function


@lru_cache(maxsize=256)
def _pattern(source: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as exc:
        raise CelError(f"invalid regular expression {source!r}: {exc}") from None


def _matches(text: Any, pattern: Any) -> bool:
    if type(text) is not str or type(pattern) is not str:
        raise overload("matches", text, pattern)
    # RE2 semantics as CEL defines them: true when the pattern matches any substring.
    return _pattern(pattern).search(text) is not None


# CEL's standard functions that playbooks and probe checks may call (global and, where CEL allows it,
# receiver-style: `s.contains(x)` is `contains(s, x)`).
STANDARD: dict[str, Callable[..., Any]] = {
    "size": _size,
    "int": _to_int,
    "double": _to_double,
    "string": _to_string,
    "bool": _to_bool,
    "type": type_of,
    "dyn": lambda value: value,
    "contains": _strings("contains", lambda text, part: part in text),
    "startsWith": _strings("startsWith", str.startswith),
    "endsWith": _strings("endsWith", str.endswith),
    "matches": _matches,
}
