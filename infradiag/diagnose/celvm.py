"""CEL evaluation for playbooks: celpy's parse tree compiled once into Python closures over plain data.

Why not celpy's own evaluator: it walks the parse tree and wraps every value in celtypes on every step, about
half a millisecond per list element, so one `services.filter(...)` over 200 services took 100-300 ms and a
whole diagnosis over a second (bench/triage_scale.py). celpy 0.5's transpiler mishandles `has()` guards
under `&&`, and the CEL C++ binding (cel-expr-python) converts every variable on each evaluation, which
makes per-item lookups into a 200-service map cost a millisecond each. Compiled closures read the evidence
as it is (dicts, lists, str, int, float, bool, None) with no conversion at all.

Semantics follow the CEL language definition (https://github.com/google/cel-spec/blob/master/doc/langdef.md):
- no implicit numeric conversion in arithmetic (`1 + 1.0` is an error); comparisons and equality across int
  and double compare numeric values; values of other different types are never equal;
- `&&` and `||` are commutative over errors: `false && error` is false, whichever side fails;
- int arithmetic is 64-bit and overflow is an error; int `/` truncates toward zero, `%` keeps the sign of
  the dividend;
- field selection on a map with no such key is an error, and `has(m.f)` tests the key;
- the macros `has`, `all`, `exists`, `exists_one`, `map` (2 and 3 arguments) and `filter`; over a map they
  range over its keys.
Unsigned ints, bytes arithmetic, timestamps, durations and message construction are not supported: playbooks
and probe checks do not need them, and an expression using them fails to compile with a message saying so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import lark
from celpy.evaluation import celstr

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


def _kind(value: Any) -> str:
    return type_of(value).name


def _overload(op: str, *values: Any) -> CelError:
    return CelError(f"no such overload: {op}({', '.join(_kind(v) for v in values)})")


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


def _int64(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise CelError("int64 overflow")
    return value


# --- operators ----------------------------------------------------------------------------------------


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
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if {ta, tb} <= {list, tuple}:
        return equal(list(a), list(b))
    return False


def _order(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    ta, tb = type(a), type(b)
    if (ta is tb and ta in (int, float, str, bool, bytes)) or (_is_number(a) and _is_number(b)):
        return a, b
    raise _overload(op, a, b)


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


def _in(item: Any, container: Any) -> bool:
    kind = type(container)
    if kind is list or kind is tuple:
        return any(equal(item, member) for member in container)
    if kind is dict:
        return _map_key(item) in container
    raise _overload("@in", item, container)


def _add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is not tb and not ({ta, tb} <= {list, tuple}):
        raise _overload("_+_", a, b)
    if ta is int:
        return _int64(a + b)
    if ta is float or ta is str or ta is bytes:
        return a + b
    if ta is list or ta is tuple:
        return [*a, *b]
    raise _overload("_+_", a, b)


def _sub(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b) or ta not in (int, float):
        raise _overload("_-_", a, b)
    return _int64(a - b) if ta is int else a - b


def _mul(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b) or ta not in (int, float):
        raise _overload("_*_", a, b)
    return _int64(a * b) if ta is int else a * b


def _div(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b) or ta not in (int, float):
        raise _overload("_/_", a, b)
    if ta is float:
        if b == 0:
            return math.copysign(math.inf, a) * math.copysign(1.0, b) if a != 0 else math.nan
        return a / b
    if b == 0:
        raise CelError("division by zero")
    quotient = abs(a) // abs(b)
    return _int64(quotient if (a >= 0) == (b > 0) else -quotient)


def _mod(a: Any, b: Any) -> Any:
    if type(a) is not int or type(b) is not int:
        raise _overload("_%_", a, b)
    if b == 0:
        raise CelError("modulus by zero")
    return int(math.fmod(a, b))


def _neg(a: Any) -> Any:
    ta = type(a)
    if ta is int:
        return _int64(-a)
    if ta is float:
        return -a
    raise _overload("-_", a)


def _not(a: Any) -> bool:
    if type(a) is not bool:
        raise _overload("!_", a)
    return not a


def _map_key(key: Any) -> Any:
    if type(key) not in (str, int, bool):
        raise CelError(f"unsupported map key type: {_kind(key)}")
    return key


def select(value: Any, field: str) -> Any:
    """`value.field`: a map's entry; an error when the map has no such key or the value is not a map."""
    if type(value) is dict:
        try:
            return value[field]
        except KeyError:
            raise CelError(f"no such key: '{field}'") from None
    raise CelError(f"cannot select '{field}' from a {_kind(value)}")


def index(container: Any, key: Any) -> Any:
    """`container[key]`: a list element by int position, or a map entry by key."""
    kind = type(container)
    if kind is list or kind is tuple:
        if type(key) is float and key.is_integer():
            key = int(key)
        if type(key) is not int:
            raise _overload("_[_]", container, key)
        if not 0 <= key < len(container):
            raise CelError(f"index out of range: {key}")
        return container[key]
    if kind is dict:
        try:
            return container[_map_key(key)]
        except KeyError:
            raise CelError(f"no such key: {key!r}") from None
    raise _overload("_[_]", container, key)


# --- functions ----------------------------------------------------------------------------------------


def _size(value: Any) -> int:
    if type(value) in (str, bytes, list, tuple, dict):
        return len(value)
    raise _overload("size", value)


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
            return _int64(int(value, 10))
        except ValueError:
            raise CelError(f"int({value!r}): not an integer") from None
    raise _overload("int", value)


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
    raise _overload("double", value)


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
    raise _overload("string", value)


def format_double(value: float) -> str:
    """A double as CEL's string() writes it: no trailing `.0` noise, `inf`/`nan` spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:g}" if value.is_integer() and abs(value) < 1e16 else repr(value)


_TRUE = frozenset({"true", "True", "TRUE", "t", "1"})
_FALSE = frozenset({"false", "False", "FALSE", "f", "0"})


def _to_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    if type(value) is str and value in _TRUE | _FALSE:
        return value in _TRUE
    raise _overload("bool", value)


def _strings(name: str, test: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    def function(text: Any, other: Any) -> bool:
        if type(text) is not str or type(other) is not str:
            raise _overload(name, text, other)
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
        raise _overload("matches", text, pattern)
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


MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})


# --- the compiler -------------------------------------------------------------------------------------


class Compiler:
    """Turns one celpy parse tree into a closure; `functions` are the extra functions callers allow."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.functions = {**STANDARD, **functions}

    def compile(self, tree: lark.Tree[Any]) -> Compiled:
        """The closure computing `tree` over an activation; CelUnsupported for what it cannot compile."""
        method = getattr(self, f"_{tree.data}", None)
        if method is None:
            raise CelUnsupported(f"{tree.data} is not supported")
        compiled: Compiled = method(tree)
        return compiled

    def _only_child(self, tree: lark.Tree[Any]) -> Compiled:
        return self.compile(tree.children[0])

    _member = _primary = _only_child

    def _paren_expr(self, tree: lark.Tree[Any]) -> Compiled:
        return self.compile(tree.children[0])

    def _expr(self, tree: lark.Tree[Any]) -> Compiled:
        if len(tree.children) == 1:
            return self.compile(tree.children[0])
        test, yes, no = (self.compile(child) for child in tree.children)

        def conditional(env: Activation) -> Any:
            chosen = test(env)
            if type(chosen) is not bool:
                raise _overload("_?_:_", chosen)
            return yes(env) if chosen else no(env)

        return conditional

    def _conditionalor(self, tree: lark.Tree[Any]) -> Compiled:
        return self._logical(tree, absorbing=True)

    def _conditionaland(self, tree: lark.Tree[Any]) -> Compiled:
        return self._logical(tree, absorbing=False)

    def _logical(self, tree: lark.Tree[Any], *, absorbing: bool) -> Compiled:
        if len(tree.children) == 1:
            return self.compile(tree.children[0])
        left, right = (self.compile(child) for child in tree.children)
        name = "_||_" if absorbing else "_&&_"

        # `absorbing` is the value that decides the result alone: true for ||, false for &&. An error on one
        # side is overruled when the other side decides (CEL's commutative logical operators).
        def logical(env: Activation) -> bool:
            try:
                first = left(env)
                if type(first) is not bool:
                    raise _overload(name, first)
            except CelError as error:
                second = right(env)
                if second is absorbing:
                    return bool(absorbing)
                raise error from None
            if first is absorbing:
                return absorbing
            second = right(env)
            if type(second) is not bool:
                raise _overload(name, first, second)
            return bool(second)

        return logical

    def _binary(self, tree: lark.Tree[Any], table: Mapping[str, Callable[[Any, Any], Any]]) -> Compiled:
        if len(tree.children) == 1:
            return self.compile(tree.children[0])
        operator, operand = tree.children
        op = table[operator.data]
        left, right = self.compile(operator.children[0]), self.compile(operand)
        return lambda env: op(left(env), right(env))

    def _relation(self, tree: lark.Tree[Any]) -> Compiled:
        return self._binary(tree, RELATIONS)

    def _addition(self, tree: lark.Tree[Any]) -> Compiled:
        return self._binary(tree, ARITHMETIC)

    _multiplication = _addition

    def _unary(self, tree: lark.Tree[Any]) -> Compiled:
        if len(tree.children) == 1:
            return self.compile(tree.children[0])
        operator, operand = tree.children
        compiled = self.compile(operand)
        op = _not if operator.data == "unary_not" else _neg
        return lambda env: op(compiled(env))

    def _literal(self, tree: lark.Tree[Any]) -> Compiled:
        token = tree.children[0]
        assert isinstance(token, lark.Token)
        kind, text = token.type, str(token)
        value: Any
        if kind == "INT_LIT":
            sign = -1 if text.startswith("-") else 1
            digits = text.lstrip("-")
            value = sign * (int(digits, 16) if digits.lower().startswith("0x") else int(digits))
            _int64(value)
        elif kind == "FLOAT_LIT":
            value = float(text)
        elif kind == "STRING_LIT":
            value = str(celstr(token))
        elif kind == "MLSTRING_LIT":
            value = _multiline(text)
        elif kind == "BOOL_LIT":
            value = text == "true"
        elif kind == "NULL_LIT":
            value = None
        else:
            raise CelUnsupported(f"{kind} literals ({text}) are not supported")
        return lambda env: value

    def _ident(self, tree: lark.Tree[Any]) -> Compiled:
        name = str(tree.children[0])
        fallback = TYPES.get(name)

        def ident(env: Activation) -> Any:
            try:
                return env[name]
            except KeyError:
                if fallback is not None:
                    return fallback
                raise CelError(f"undeclared reference to '{name}'") from None

        return ident

    _dot_ident = _ident

    def _list_lit(self, tree: lark.Tree[Any]) -> Compiled:
        items = self._arguments(tree.children[0] if tree.children else None)
        return lambda env: [item(env) for item in items]

    def _map_lit(self, tree: lark.Tree[Any]) -> Compiled:
        inits = tree.children[0] if tree.children else None
        parts = [self.compile(child) for child in inits.children] if inits is not None else []
        pairs = list(zip(parts[::2], parts[1::2], strict=True))

        def map_literal(env: Activation) -> dict[Any, Any]:
            result: dict[Any, Any] = {}
            for key, value in pairs:
                k = _map_key(key(env))
                if k in result:
                    raise CelError(f"duplicate map key {k!r}")
                result[k] = value(env)
            return result

        return map_literal

    def _member_object(self, tree: lark.Tree[Any]) -> Compiled:
        raise CelUnsupported("message construction is not supported")

    def _member_dot(self, tree: lark.Tree[Any]) -> Compiled:
        target, field = self.compile(tree.children[0]), str(tree.children[1])
        return lambda env: select(target(env), field)

    def _member_index(self, tree: lark.Tree[Any]) -> Compiled:
        target, key = self.compile(tree.children[0]), self.compile(tree.children[1])
        return lambda env: index(target(env), key(env))

    def _arguments(self, exprlist: lark.Tree[Any] | None) -> list[Compiled]:
        return [self.compile(child) for child in exprlist.children] if exprlist is not None else []

    def _ident_arg(self, tree: lark.Tree[Any]) -> Compiled:
        name = str(tree.children[0])
        exprlist = tree.children[1] if len(tree.children) > 1 else None
        if name == "has":
            return self._has(exprlist)
        return self._call(name, self._arguments(exprlist))

    _dot_ident_arg = _ident_arg

    def _call(self, name: str, arguments: list[Compiled]) -> Compiled:
        function = self.functions.get(name)
        if function is None:
            raise CelUnsupported(f"unknown function {name}()")

        def call(env: Activation) -> Any:
            values = [argument(env) for argument in arguments]
            try:
                return function(*values)
            except CelError:
                raise
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                raise CelError(f"{name}(): {exc}") from None

        return call

    def _has(self, exprlist: lark.Tree[Any] | None) -> Compiled:
        arguments = exprlist.children if exprlist is not None else []
        argument = unwrap(arguments[0]) if len(arguments) == 1 else None
        if argument is None or argument.data != "member_dot":
            raise CelUnsupported("has() takes one field selection, e.g. has(c.cpu)")
        target, field = self.compile(argument.children[0]), str(argument.children[1])

        def has(env: Activation) -> bool:
            value = target(env)
            if type(value) is dict:
                return field in value
            raise CelError(f"has(): cannot test '{field}' on a {_kind(value)}")

        return has

    def _member_dot_arg(self, tree: lark.Tree[Any]) -> Compiled:
        target = self.compile(tree.children[0])
        name = str(tree.children[1])
        exprlist = tree.children[2] if len(tree.children) > 2 else None
        if name in MACROS and name != "has":
            return self._macro(name, target, exprlist)
        arguments = self._arguments(exprlist)
        return self._call(name, [target, *arguments])

    def _macro(self, name: str, target: Compiled, exprlist: lark.Tree[Any] | None) -> Compiled:
        children = exprlist.children if exprlist is not None else []
        variable = unwrap(children[0]) if children else None
        if variable is None or variable.data != "ident" or len(children) not in (2, 3):
            raise CelUnsupported(f"{name}() takes a variable and an expression, e.g. xs.{name}(x, x > 0)")
        if len(children) == 3 and name != "map":
            raise CelUnsupported(f"{name}() takes a variable name and one expression")
        var = str(variable.children[0])
        body = self.compile(children[-1])
        keep = self.compile(children[1]) if len(children) == 3 else None
        return _MACRO_BUILDERS[name](var, target, body, keep)


def _multiline(text: str) -> str:
    # celpy's celstr() drops the line breaks of triple-quoted strings. Escapes: CEL's are Python's.
    raw = text[0] in "rR"
    body = text[4:-3] if raw else text[3:-3]
    return body if raw else body.encode("latin-1", "backslashreplace").decode("unicode_escape")


def unwrap(tree: lark.Tree[Any]) -> lark.Tree[Any]:
    """The innermost node of a chain of single-child wrappers (expr -> ... -> primary -> ident)."""
    while isinstance(tree, lark.Tree) and len(tree.children) == 1 and isinstance(tree.children[0], lark.Tree):
        tree = tree.children[0]
    return tree


def _range(value: Any, macro: str) -> list[Any]:
    kind = type(value)
    if kind is list or kind is tuple or kind is dict:
        return list(value)
    raise CelError(f"{macro}() ranges over a list or a map, not a {_kind(value)}")


def _predicate(value: Any, macro: str) -> bool:
    if type(value) is not bool:
        raise CelError(f"{macro}(): the condition gave a {_kind(value)}, not a bool")
    return bool(value)


def _quantifier(macro: str, decisive: bool) -> Callable[[str, Compiled, Compiled, Compiled | None], Compiled]:
    """all() (decided by the first false) and exists() (by the first true). Like && and ||, an error on one
    element is overruled when another element decides."""

    def build(var: str, target: Compiled, body: Compiled, keep: Compiled | None) -> Compiled:
        def quantify(env: Activation) -> bool:
            scope, error = dict(env), None
            for item in _range(target(env), macro):
                scope[var] = item
                try:
                    if _predicate(body(scope), macro) is decisive:
                        return decisive
                except CelError as failure:
                    error = error or failure
            if error is not None:
                raise error
            return not decisive

        return quantify

    return build


def _build_exists_one(var: str, target: Compiled, body: Compiled, keep: Compiled | None) -> Compiled:
    def exists_one(env: Activation) -> bool:
        scope, count = dict(env), 0
        for item in _range(target(env), "exists_one"):
            scope[var] = item
            count += _predicate(body(scope), "exists_one")
        return count == 1

    return exists_one


def _build_map(var: str, target: Compiled, body: Compiled, keep: Compiled | None) -> Compiled:
    def map_(env: Activation) -> list[Any]:
        scope, result = dict(env), []
        for item in _range(target(env), "map"):
            scope[var] = item
            if keep is None or _predicate(keep(scope), "map"):
                result.append(body(scope))
        return result

    return map_


def _build_filter(var: str, target: Compiled, body: Compiled, keep: Compiled | None) -> Compiled:
    def filter_(env: Activation) -> list[Any]:
        scope, result = dict(env), []
        for item in _range(target(env), "filter"):
            scope[var] = item
            if _predicate(body(scope), "filter"):
                result.append(item)
        return result

    return filter_


_MACRO_BUILDERS: dict[str, Callable[[str, Compiled, Compiled, Compiled | None], Compiled]] = {
    "all": _quantifier("all", decisive=False),
    "exists": _quantifier("exists", decisive=True),
    "exists_one": _build_exists_one,
    "map": _build_map,
    "filter": _build_filter,
}
