"""CEL for playbooks and probe checks: parsed by celpy, compiled to closures (celvm), evaluated over plain
JSON-like data (dicts, lists, str, int, float, bool, None) with a few formatting functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import celpy
from celpy.celparser import CELParseError

from infradiag.diagnose.celvm import (
    MACROS,
    CelError,
    CelUnsupported,
    Compiled,
    Compiler,
    format_double,
    unwrap,
)
from infradiag.diagnose.runfixes import revision_fix


class CelCompileError(Exception):
    """The expression is not valid CEL, or uses a part of CEL infradiag does not evaluate."""


class CelEvalError(Exception):
    """The expression failed on this evidence (missing field, type mismatch...)."""


def _fixed(value: Any, digits: Any) -> str:
    return f"{float(value):.{int(digits)}f}"


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.1f} %"


def _seconds(milliseconds: Any) -> str:
    return f"{float(milliseconds) / 1000:.1f} s"


def _join(items: Any, separator: Any) -> str:
    return str(separator).join(to_text(item) for item in items)


def _tf_name(name: Any) -> str:
    # Terraform resource names cannot hold hyphens; the usual local name swaps them for underscores.
    return str(name).replace("-", "_")


def _basename(name: Any) -> str:
    return str(name).rsplit("/", 1)[-1]


# Formatting helpers playbooks may call besides CEL's standard functions.
FUNCTIONS: dict[str, Any] = {
    "fixed": _fixed,
    "percent": _percent,
    "seconds": _seconds,
    "join": _join,
    "tf_name": _tf_name,
    "basename": _basename,
    # The specific fix for a revision that did not become ready, from its condition message (runfixes.py).
    "revision_fix": revision_fix,
}
_PARSER = celpy.Environment()  # used for its parser only
_COMPILER = Compiler(FUNCTIONS)


@dataclass(frozen=True)
class Expression:
    """A compiled CEL expression and its source text."""

    source: str
    program: Compiled
    names: frozenset[str] = frozenset()  # every identifier the expression mentions
    free: frozenset[str] = frozenset()  # the identifiers it reads from its activation (not macro variables)
    result_type: str | None = None  # what it always gives: "bool", or e.g. "an int"; None: that depends

    def evaluate(self, activation: Mapping[str, Any]) -> Any:
        """The value of the expression as plain data; CelEvalError when it fails on this evidence."""
        try:
            return self.program(activation)
        except CelError as exc:
            raise CelEvalError(f"{self.source}: {str(exc)[:200]}") from None
        except RecursionError:
            raise CelEvalError(f"{self.source}: nested too deeply") from None

    def is_true(self, activation: Mapping[str, Any]) -> bool:
        """The boolean value of the expression; CelEvalError if it is not a bool."""
        value = self.evaluate(activation)
        if type(value) is not bool:
            raise CelEvalError(f"{self.source}: expected a bool, got {type(value).__name__}")
        return value


def compile_expression(source: str) -> Expression:
    """Compile CEL source; a syntax error raises CelCompileError with the parser's message."""
    try:
        ast = _PARSER.compile(source)
        program = _COMPILER.compile(ast)
    except CELParseError as exc:
        raise CelCompileError(str(exc).splitlines()[0] if str(exc) else "syntax error") from None
    except CelUnsupported as exc:
        raise CelCompileError(str(exc)) from None
    return Expression(
        source=source,
        program=program,
        names=_identifiers(ast),
        free=free_identifiers(ast),
        result_type=static_type(ast),
    )


def _identifiers(ast: Any) -> frozenset[str]:
    # Over-approximates (macro variables count too): good enough to know which names to have ready.
    return frozenset(str(tree.children[0]) for tree in ast.iter_subtrees() if tree.data == "ident")


def free_identifiers(ast: Any) -> frozenset[str]:
    """The identifiers `ast` reads from its activation: every `ident` except the variables that the macros
    around it bind (`xs.all(x, x > 0)` reads `xs`, not `x`). CEL's type names count as free too."""
    import lark

    found: set[str] = set()
    pending: list[tuple[Any, frozenset[str]]] = [(ast, frozenset())]
    while pending:
        tree, bound = pending.pop()
        if not isinstance(tree, lark.Tree):
            continue
        if tree.data == "ident":
            name = str(tree.children[0])
            if name not in bound:
                found.add(name)
            continue
        if tree.data == "member_dot_arg" and str(tree.children[1]) in MACROS - {"has"}:
            arguments = tree.children[2].children if len(tree.children) > 2 else []
            variable = unwrap(arguments[0]) if arguments else None
            if variable is not None and variable.data == "ident":
                inner = bound | {str(variable.children[0])}
                pending.append((tree.children[0], bound))
                pending.extend((argument, inner) for argument in arguments[1:])
                continue
        pending.extend((child, bound) for child in tree.children)
    return frozenset(found)


# Parse-tree nodes that only wrap their one child.
_WRAPPERS = frozenset(
    {"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication", "unary", "member"}
    | {"primary", "paren_expr"}
)
_LITERAL_TYPES = {
    "INT_LIT": "an int",
    "UINT_LIT": "a uint",
    "FLOAT_LIT": "a double",
    "STRING_LIT": "a string",
    "MLSTRING_LIT": "a string",
    "BYTES_LIT": "bytes",
    "BOOL_LIT": "bool",
    "NULL_LIT": "null",
}
_NODE_TYPES = {
    "unary_not": "bool",
    "addition_add": "a sum",
    "addition_sub": "a number",
    "multiplication_mul": "a number",
    "multiplication_div": "a number",
    "multiplication_mod": "a number",
    "unary_neg": "a number",
    "list_lit": "a list",
    "map_lit": "a map",
}
_FUNCTION_TYPES = {
    "has": "bool",
    "size": "an int",
    "int": "an int",
    "uint": "a uint",
    "double": "a double",
    "string": "a string",
}
_METHOD_TYPES = {
    **dict.fromkeys(("startsWith", "endsWith", "contains", "matches", "all", "exists", "exists_one"), "bool"),
    "map": "a list",
    "filter": "a list",
    "size": "an int",
}


def static_type(ast: Any) -> str | None:
    """What `ast` gives whatever the data: "bool", a phrase such as "an int" or "a sum", or None when that
    depends on the data (a field of a JSON body may hold anything). Lets a boolean check be refused at load
    time when it can never be true or false (`body.status + 1`)."""
    import lark

    tree = ast
    while tree.data in _WRAPPERS and len(tree.children) == 1 and isinstance(tree.children[0], lark.Tree):
        tree = tree.children[0]
    kind = tree.data
    if kind in ("conditionalor", "conditionaland"):  # a || b, a && b
        return "bool"
    first = tree.children[0] if tree.children else None
    operator = first.data if isinstance(first, lark.Tree) else ""
    if len(tree.children) == 2 and (operator.startswith("relation_") or operator in _NODE_TYPES):
        return "bool" if operator.startswith("relation_") else _NODE_TYPES[operator]  # binary or unary
    if kind == "expr" and len(tree.children) == 3:  # a ? b : c
        yes, no = static_type(tree.children[1]), static_type(tree.children[2])
        return yes if yes == no else None
    if kind in _NODE_TYPES:
        return _NODE_TYPES[kind]
    if kind == "literal":
        token = tree.children[0]
        return _LITERAL_TYPES.get(getattr(token, "type", ""))
    if kind == "ident_arg":
        return _FUNCTION_TYPES.get(str(tree.children[0]))
    if kind == "member_dot_arg":
        return _METHOD_TYPES.get(str(tree.children[1]))
    return None


# `{cel}` is a placeholder; `{{` and `}}` stand for literal braces (Terraform blocks need them).
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


@dataclass(frozen=True)
class Template:
    """Text with `{cel}` placeholders."""

    source: str
    parts: tuple[str | Expression, ...]

    @property
    def names(self) -> frozenset[str]:
        """Every identifier its placeholders mention."""
        return frozenset().union(*(p.names for p in self.parts if not isinstance(p, str)))

    @property
    def free(self) -> frozenset[str]:
        """The identifiers its placeholders read from the activation."""
        return frozenset().union(*(p.free for p in self.parts if not isinstance(p, str)))

    def render(self, activation: Mapping[str, Any]) -> str:
        """The text with each placeholder replaced by its value; CelEvalError if one fails."""
        return "".join(
            part if isinstance(part, str) else to_text(part.evaluate(activation)) for part in self.parts
        )


def compile_template(source: str) -> Template:
    """Split `source` into text and compiled `{cel}` placeholders."""
    parts: list[str | Expression] = []
    position = 0
    for match in _PLACEHOLDER.finditer(source):
        parts.append(source[position : match.start()])
        token = match.group(0)
        parts.append(token[0] if token in ("{{", "}}") else compile_expression(match.group(1)))
        position = match.end()
    parts.append(source[position:])
    return Template(source=source, parts=tuple(p for p in parts if p != ""))


def to_text(value: Any) -> str:
    """A value as a human reads it (lists comma-separated, doubles without noise, null as null)."""
    if isinstance(value, list | tuple):
        return ", ".join(to_text(item) for item in value)
    if type(value) is float:
        return format_double(value)
    if type(value) is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
