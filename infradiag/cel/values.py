"""CEL values over plain data: the types, the two error kinds, and the checks every operator shares."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

Activation = Mapping[str, Any]
Compiled = Callable[[Activation], Any]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class CelError(Exception):
    """Evaluation failed: no such key, no matching overload, division by zero..."""


class CelUnsupported(Exception):
    """The expression uses a part of CEL this evaluator does not implement."""


class CelType:
    """A CEL type as a value (`type(x) == string`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


TYPES = {
    name: CelType(name)
    for name in ("bool", "int", "double", "string", "bytes", "list", "map", "null_type", "type")
}


_TYPE_NAMES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "double",
    str: "string",
    bytes: "bytes",
    list: "list",
    tuple: "list",
    dict: "map",
    type(None): "null_type",
    CelType: "type",
}


def type_of(value: Any) -> CelType:
    """The CEL type of a plain value."""
    name = _TYPE_NAMES.get(type(value))
    if name is None:
        raise CelError(f"no CEL type for a Python {type(value).__name__}")
    return TYPES[name]


def type_name(value: Any) -> str:
    """The name of the CEL type of a plain value, for error messages."""
    return type_of(value).name


def overload(op: str, *values: Any) -> CelError:
    """The error for an operator or function applied to values of types it has no overload for."""
    return CelError(f"no such overload: {op}({', '.join(type_name(v) for v in values)})")


def is_number(value: Any) -> bool:
    """True for an int or a double (not a bool)."""
    python_type = type(value)
    return python_type is int or python_type is float


def int64(value: int) -> int:
    """`value` unchanged when it fits in 64 bits; CelError otherwise."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise CelError("int64 overflow")
    return value


def map_key(key: Any) -> Any:
    """`key` unchanged when CEL allows it as a map key (string, int, bool); CelError otherwise."""
    if type(key) not in (str, int, bool):
        raise CelError(f"unsupported map key type: {type_name(key)}")
    return key


def format_double(value: float) -> str:
    """A double as CEL's string() writes it: no trailing `.0` noise, `inf`/`nan` spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:g}" if value.is_integer() and abs(value) < 1e16 else repr(value)
