"""The JSON report's text: exactly what `json.dumps(value, indent=2)` writes, about twice as fast.

The standard library writes indented JSON with its pure-Python encoder (its C encoder has no indentation
on Python 3.11): a chain of generators per value, about 35 ms for the report of an outage across 200
services (issue 16). This writes the same characters from plain JSON data (dicts with string keys, lists,
strings, ints, floats, booleans, None), escaping strings with the standard library's own C function; any
other value (a tuple, a subclass, a non-string key) makes it hand the whole value to `json.dumps`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any


class _NotPlain(Exception):
    """A value this writer leaves to json.dumps."""


def dumps_indented(value: Any) -> str:
    """`json.dumps(value, indent=2)`, character for character."""
    chunks: list[str] = []
    try:
        _write(value, chunks.append, "\n")
    except _NotPlain:
        return json.dumps(value, indent=2)
    return "".join(chunks)


def _number(value: float) -> str:
    # json.dumps's floatstr with allow_nan (its default).
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return float.__repr__(value)


def _write(value: Any, emit: Callable[[str], None], newline: str) -> None:
    kind = type(value)
    if kind is str:
        emit(encode_basestring_ascii(value))
    elif kind is dict:
        if not value:
            emit("{}")
            return
        inner = newline + "  "
        opening = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            emit(opening + encode_basestring_ascii(key) + ": ")
            opening = "," + inner
            _write(item, emit, inner)
        emit(newline + "}")
    elif kind is list:
        if not value:
            emit("[]")
            return
        inner = newline + "  "
        opening = "[" + inner
        for item in value:
            emit(opening)
            opening = "," + inner
            _write(item, emit, inner)
        emit(newline + "]")
    elif value is None:
        emit("null")
    elif value is True:
        emit("true")
    elif value is False:
        emit("false")
    elif kind is int:
        emit(int.__repr__(value))
    elif kind is float:
        emit(_number(value))
    else:
        raise _NotPlain
