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


def _conversion(name: str, by_type: dict[type, Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """CEL's conversion `name`: the converter of the value's exact Python type (so a bool is not an int);
    no such overload for any type without one."""

    def convert(value: Any) -> Any:
        converter = by_type.get(type(value))
        if converter is None:
            raise overload(name, value)
        return converter(value)

    return convert


def _parsing(name: str, parse: Callable[[str], Any], problem: str) -> Callable[[str], Any]:
    """`parse`, with the ValueError it raises on text it cannot read told as `name('text'): problem`."""

    def parse_text(text: str) -> Any:
        try:
            return parse(text)
        except ValueError:
            raise CelError(f"{name}({text!r}): {problem}") from None

    return parse_text


def _double_to_int(value: float) -> int:
    if math.isnan(value) or not INT64_MIN <= value < 2.0**63:
        raise CelError(f"int({value}) is out of range")
    return int(value)


def _utf8_to_string(value: bytes) -> str:
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise CelError("string(bytes): not valid UTF-8") from None


_TRUE = frozenset({"true", "True", "TRUE", "t", "1"})
_FALSE = frozenset({"false", "False", "FALSE", "f", "0"})


def _text_to_bool(text: str) -> bool:
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise overload("bool", text)


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


def _matches(text: str, pattern: str) -> bool:
    # RE2 semantics as CEL defines them: true when the pattern matches any substring.
    return _pattern(pattern).search(text) is not None


# CEL's standard functions that playbooks and probe checks may call (global and, where CEL allows it,
# receiver-style: `s.contains(x)` is `contains(s, x)`).
STANDARD: dict[str, Callable[..., Any]] = {
    "size": _size,
    "int": _conversion(
        "int",
        {
            int: int,
            float: _double_to_int,
            str: _parsing("int", lambda text: int64(int(text, 10)), "not an integer"),
        },
    ),
    "double": _conversion(
        "double", {float: float, int: float, str: _parsing("double", float, "not a number")}
    ),
    "string": _conversion(
        "string",
        {
            str: str,
            bool: lambda value: "true" if value else "false",
            int: str,
            float: format_double,
            bytes: _utf8_to_string,
        },
    ),
    "bool": _conversion("bool", {bool: bool, str: _text_to_bool}),
    "type": type_of,
    "dyn": lambda value: value,
    "contains": _strings("contains", lambda text, part: part in text),
    "startsWith": _strings("startsWith", str.startswith),
    "endsWith": _strings("endsWith", str.endswith),
    "matches": _strings("matches", _matches),
}
