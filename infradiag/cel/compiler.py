"""CEL evaluation: celpy's parse tree (as infradiag.cel.tree nodes) compiled once into Python closures over
plain data.

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

from collections.abc import Callable, Mapping
from typing import Any

from infradiag.cel.functions import STANDARD
from infradiag.cel.macros import MACRO_BUILDERS, MACROS, unwrap
from infradiag.cel.operators import ARITHMETIC, RELATIONS, UNARY, index, select
from infradiag.cel.tree import Leaf, Node
from infradiag.cel.values import (
    TYPES,
    Activation,
    CelError,
    CelUnsupported,
    Compiled,
    int64,
    map_key,
    overload,
    type_name,
)


class Compiler:
    """Turns one parse tree into a closure; `functions` are the extra functions callers allow."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.functions = {**STANDARD, **functions}

    def compile(self, tree: Node) -> Compiled:
        """The closure computing `tree` over an activation; CelUnsupported for what it cannot compile."""
        method = getattr(self, f"_{tree.data}", None)
        if method is None:
            raise CelUnsupported(f"{tree.data} is not supported")
        compiled: Compiled = method(tree)
        return compiled

    def _only_child(self, tree: Node) -> Compiled:
        return self.compile(tree.children[0])

    _member = _primary = _only_child

    def _paren_expr(self, tree: Node) -> Compiled:
        return self.compile(tree.children[0])

    def _expr(self, tree: Node) -> Compiled:
        if len(tree.children) == 1:
            return self.compile(tree.children[0])
        test, yes, no = (self.compile(child) for child in tree.children)

        def conditional(env: Activation) -> Any:
            chosen = test(env)
            if type(chosen) is not bool:
                raise overload("_?_:_", chosen)
            return yes(env) if chosen else no(env)

        return conditional

    def _conditionalor(self, tree: Node) -> Compiled:
        return self._logical(tree, absorbing=True)

    def _conditionaland(self, tree: Node) -> Compiled:
        return self._logical(tree, absorbing=False)

    def _logical(self, tree: Node, *, absorbing: bool) -> Compiled:
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
                    raise overload(name, first)
            except CelError as error:
                second = right(env)
                if second is absorbing:
                    return bool(absorbing)
                raise error from None
            if first is absorbing:
                return absorbing
            second = right(env)
            if type(second) is not bool:
                raise overload(name, first, second)
            return bool(second)

        return logical

    def _binary(self, tree: Node, table: Mapping[str, Callable[[Any, Any], Any]]) -> Compiled:
        if len(tree.children) == 1:
            return self.compile(tree.children[0])
        operator, operand = tree.children
        op = table[operator.data]
        left, right = self.compile(operator.children[0]), self.compile(operand)
        return lambda env: op(left(env), right(env))

    def _relation(self, tree: Node) -> Compiled:
        return self._binary(tree, RELATIONS)

    def _addition(self, tree: Node) -> Compiled:
        return self._binary(tree, ARITHMETIC)

    _multiplication = _addition

    def _unary(self, tree: Node) -> Compiled:
        if len(tree.children) == 1:
            return self.compile(tree.children[0])
        operator, operand = tree.children
        compiled = self.compile(operand)
        op = UNARY[operator.data]
        return lambda env: op(compiled(env))

    def _literal(self, tree: Node) -> Compiled:
        token = tree.children[0]
        assert isinstance(token, Leaf)
        kind, text = token.type, str(token)
        value: Any
        if kind == "INT_LIT":
            sign = -1 if text.startswith("-") else 1
            digits = text.lstrip("-")
            value = sign * (int(digits, 16) if digits.lower().startswith("0x") else int(digits))
            int64(value)
        elif kind == "FLOAT_LIT":
            value = float(text)
        elif kind == "STRING_LIT":
            value = token.value
        elif kind == "MLSTRING_LIT":
            value = _multiline(text)
        elif kind == "BOOL_LIT":
            value = text == "true"
        elif kind == "NULL_LIT":
            value = None
        else:
            raise CelUnsupported(f"{kind} literals ({text}) are not supported")
        return lambda env: value

    def _ident(self, tree: Node) -> Compiled:
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

    def _list_lit(self, tree: Node) -> Compiled:
        items = self._arguments(tree.children[0] if tree.children else None)
        return lambda env: [item(env) for item in items]

    def _map_lit(self, tree: Node) -> Compiled:
        inits = tree.children[0] if tree.children else None
        parts = [self.compile(child) for child in inits.children] if inits is not None else []
        pairs = list(zip(parts[::2], parts[1::2], strict=True))

        def map_literal(env: Activation) -> dict[Any, Any]:
            result: dict[Any, Any] = {}
            for key, value in pairs:
                k = map_key(key(env))
                if k in result:
                    raise CelError(f"duplicate map key {k!r}")
                result[k] = value(env)
            return result

        return map_literal

    def _member_object(self, tree: Node) -> Compiled:
        raise CelUnsupported("message construction is not supported")

    def _member_dot(self, tree: Node) -> Compiled:
        target, field = self.compile(tree.children[0]), str(tree.children[1])
        return lambda env: select(target(env), field)

    def _member_index(self, tree: Node) -> Compiled:
        target, key = self.compile(tree.children[0]), self.compile(tree.children[1])
        return lambda env: index(target(env), key(env))

    def _arguments(self, exprlist: Node | None) -> list[Compiled]:
        return [self.compile(child) for child in exprlist.children] if exprlist is not None else []

    def _ident_arg(self, tree: Node) -> Compiled:
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

    def _has(self, exprlist: Node | None) -> Compiled:
        arguments = exprlist.children if exprlist is not None else []
        argument = unwrap(arguments[0]) if len(arguments) == 1 else None
        if argument is None or argument.data != "member_dot":
            raise CelUnsupported("has() takes one field selection, e.g. has(c.cpu)")
        target, field = self.compile(argument.children[0]), str(argument.children[1])

        def has(env: Activation) -> bool:
            value = target(env)
            if type(value) is dict:
                return field in value
            raise CelError(f"has(): cannot test '{field}' on a {type_name(value)}")

        return has

    def _member_dot_arg(self, tree: Node) -> Compiled:
        target = self.compile(tree.children[0])
        name = str(tree.children[1])
        exprlist = tree.children[2] if len(tree.children) > 2 else None
        if name in MACROS and name != "has":
            return self._macro(name, target, exprlist)
        arguments = self._arguments(exprlist)
        return self._call(name, [target, *arguments])

    def _macro(self, name: str, target: Compiled, exprlist: Node | None) -> Compiled:
        children = exprlist.children if exprlist is not None else []
        variable = unwrap(children[0]) if children else None
        if variable is None or variable.data != "ident" or len(children) not in (2, 3):
            raise CelUnsupported(f"{name}() takes a variable and an expression, e.g. xs.{name}(x, x > 0)")
        if len(children) == 3 and name != "map":
            raise CelUnsupported(f"{name}() takes a variable name and one expression")
        var = str(variable.children[0])
        body = self.compile(children[-1])
        keep = self.compile(children[1]) if len(children) == 3 else None
        return MACRO_BUILDERS[name](var, target, body, keep)


def _multiline(text: str) -> str:
    # celpy's celstr() drops the line breaks of triple-quoted strings. Escapes: CEL's are Python's.
    raw = text[0] in "rR"
    body = text[4:-3] if raw else text[3:-3]
    return body if raw else body.encode("latin-1", "backslashreplace").decode("unicode_escape")
