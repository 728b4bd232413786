"""CEL for playbooks: compiled once, evaluated over plain evidence, with a few formatting functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError


class CelCompileError(Exception):
    """The expression is not valid CEL."""


class CelEvalError(Exception):
    """The expression failed on this evidence (missing field, type mismatch...)."""


def _fixed(value: Any, digits: Any) -> celtypes.StringType:
    return celtypes.StringType(f"{float(value):.{int(digits)}f}")


def _percent(value: Any) -> celtypes.StringType:
    return celtypes.StringType(f"{float(value) * 100:.1f} %")


def _seconds(milliseconds: Any) -> celtypes.StringType:
    return celtypes.StringType(f"{float(milliseconds) / 1000:.1f} s")


def _join(items: Any, separator: Any) -> celtypes.StringType:
    return celtypes.StringType(str(separator).join(str(item) for item in items))


def _tf_name(name: Any) -> celtypes.StringType:
    # Terraform resource names cannot hold hyphens; the usual local name swaps them for underscores.
    return celtypes.StringType(str(name).replace("-", "_"))


def _basename(name: Any) -> celtypes.StringType:
    return celtypes.StringType(str(name).rsplit("/", 1)[-1])


# Formatting helpers playbooks may call besides CEL's standard functions.
FUNCTIONS: dict[str, Any] = {
    "fixed": _fixed,
    "percent": _percent,
    "seconds": _seconds,
    "join": _join,
    "tf_name": _tf_name,
    "basename": _basename,
}
_ENV = celpy.Environment()


@dataclass(frozen=True)
class Expression:
    """A compiled CEL expression and its source text."""

    source: str
    program: Any
    names: frozenset[str] = frozenset()  # every identifier the expression mentions

    def evaluate(self, activation: Mapping[str, Any]) -> Any:
        """The CEL value of the expression; CelEvalError when it fails on this evidence."""
        try:
            return self.program.evaluate(activation)
        except CELEvalError as exc:
            # celpy's messages can embed the whole activation; the first 200 characters say what failed.
            reason = str(exc.args[0] if exc.args else exc)[:200]
            raise CelEvalError(f"{self.source}: {reason}") from None

    def is_true(self, activation: Mapping[str, Any]) -> bool:
        """The boolean value of the expression; CelEvalError if it is not a bool."""
        value = self.evaluate(activation)
        if not isinstance(value, celtypes.BoolType):
            raise CelEvalError(f"{self.source}: expected a bool, got {type(value).__name__}")
        return bool(value)


def compile_expression(source: str) -> Expression:
    """Compile CEL source; a syntax error raises CelCompileError with the parser's message."""
    try:
        ast = _ENV.compile(source)
    except CELParseError as exc:
        raise CelCompileError(str(exc).splitlines()[0] if str(exc) else "syntax error") from None
    return Expression(source=source, program=_ENV.program(ast, functions=FUNCTIONS), names=_identifiers(ast))


def _identifiers(ast: Any) -> frozenset[str]:
    # Over-approximates (macro variables count too): good enough to know which names to have ready.
    return frozenset(str(tree.children[0]) for tree in ast.iter_subtrees() if tree.data == "ident")


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
    """A CEL value as a human reads it (lists comma-separated, doubles without noise)."""
    if isinstance(value, celtypes.ListType):
        return ", ".join(to_text(item) for item in value)
    if isinstance(value, celtypes.DoubleType):
        return f"{float(value):g}"
    if isinstance(value, celtypes.BoolType):
        return "true" if value else "false"
    return str(value)


def to_cel(value: Any) -> Any:
    """Plain JSON-like Python data as CEL values."""
    return json_to_cel(value)


def to_python(value: Any) -> Any:
    """A CEL value back to plain Python (str, int, float, bool, list, dict, None)."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [to_python(item) for item in value]
    if isinstance(value, celtypes.MapType):
        return {to_python(k): to_python(v) for k, v in value.items()}
    return value
