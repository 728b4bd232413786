"""CEL's operators over plain values: equality, ordering, membership, arithmetic, field selection and
indexing, with the semantics of the CEL language definition (see infradiag.cel.compiler)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from infradiag.cel.values import CelError, int64, is_number, map_key, overload, type_name


def equal(a: Any, b: Any) -> bool:
    """CEL heterogeneous equality: numbers by value across int and double, other types never equal."""
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is list or ta is tuple:
            return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
        if ta is dict:
            return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
        if ta is float and (math.isnan(a) or math.isnan(b)):
            return False
        return bool(a == b)
    if is_number(a) and is_number(b):
        return bool(a == b)
    if {ta, tb} <= {list, tuple}:
        return equal(list(a), list(b))
    return False


def _order(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    ta, tb = type(a), type(b)
    if (ta is tb and ta in (int, float, str, bool, bytes)) or (is_number(a) and is_number(b)):
        return a, b
    raise overload(op, a, b)


def _lt(a: Any, b: Any) -> bool:
    x, y = _order("_<_", a, b)
    return bool(x < y)


def _le(a: Any, b: Any) -> bool:
    x, y = _order("_<=_", a, b)
    return bool(x <= y)


def _gt(a: Any, b: Any) -> bool:
    x, y = _order("_>_", a, b)
    return bool(x > y)


def _ge(a: Any, b: Any) -> bool:
    x, y = _order("_>=_", a, b)
    return bool(x >= y)


# Types whose CEL equality implies Python's: where Python's C-speed `in` finds no equal member, neither
# would CEL (a filter over a fleet asks `name in failing_services` for every service, issue 16).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _in(item: Any, container: Any) -> bool:
    kind = type(container)
    if kind is list or kind is tuple:
        probe = type(item)
        if probe in _SCALARS:
            try:
                first = container[container.index(item)]
            except ValueError:
                return False
            if probe is str and type(first) is str:  # CEL: a string equals a string of the same text
                return True
        return any(equal(item, member) for member in container)
    if kind is dict:
        return map_key(item) in container
    raise overload("@in", item, container)


def _add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is not tb and not ({ta, tb} <= {list, tuple}):
        raise overload("_+_", a, b)
    if ta is int:
        return int64(a + b)
    if ta is float or ta is str or ta is bytes:
        return a + b
    if ta is list or ta is tuple:
        return [*a, *b]
    raise overload("_+_", a, b)


def _sub(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b) or ta not in (int, float):
        raise overload("_-_", a, b)
    return int64(a - b) if ta is int else a - b


def _mul(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b) or ta not in (int, float):
        raise overload("_*_", a, b)
    return int64(a * b) if ta is int else a * b


def _div(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b) or ta not in (int, float):
        raise overload("_/_", a, b)
    if ta is float:
        if b == 0:
            return math.copysign(math.inf, a) * math.copysign(1.0, b) if a != 0 else math.nan
        return a / b
    if b == 0:
        raise CelError("division by zero")
    quotient = abs(a) // abs(b)
    return int64(quotient if (a >= 0) == (b > 0) else -quotient)


def _mod(a: Any, b: Any) -> Any:
    if type(a) is not int or type(b) is not int:
        raise overload("_%_", a, b)
    if b == 0:
        raise CelError("modulus by zero")
    return int(math.fmod(a, b))


def _neg(a: Any) -> Any:
    ta = type(a)
    if ta is int:
        return int64(-a)
    if ta is float:
        return -a
    raise overload("-_", a)


def _not(a: Any) -> bool:
    if type(a) is not bool:
        raise overload("!_", a)
    return not a


def select(value: Any, field: str) -> Any:
    """`value.field`: a map's entry; an error when the map has no such key or the value is not a map."""
    if type(value) is dict:
        try:
            return value[field]
        except KeyError:
            raise CelError(f"no such key: '{field}'") from None
    raise CelError(f"cannot select '{field}' from a {type_name(value)}")


def index(container: Any, key: Any) -> Any:
    """`container[key]`: a list element by int position, or a map entry by key."""
    kind = type(container)
    if kind is list or kind is tuple:
        if type(key) is float and key.is_integer():
            key = int(key)
        if type(key) is not int:
            raise overload("_[_]", container, key)
        if not 0 <= key < len(container):
            raise CelError(f"index out of range: {key}")
        return container[key]
    if kind is dict:
        try:
            return container[map_key(key)]
        except KeyError:
            raise CelError(f"no such key: {key!r}") from None
    raise overload("_[_]", container, key)


RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "relation_lt": _lt,
    "relation_le": _le,
    "relation_gt": _gt,
    "relation_ge": _ge,
    "relation_eq": equal,
    "relation_ne": lambda a, b: not equal(a, b),
    "relation_in": _in,
}
ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "addition_add": _add,
    "addition_sub": _sub,
    "multiplication_mul": _mul,
    "multiplication_div": _div,
    "multiplication_mod": _mod,
}
UNARY: dict[str, Callable[[Any], Any]] = {"unary_not": _not, "unary_neg": _neg}
