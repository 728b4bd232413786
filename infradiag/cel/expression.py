"""Compiled CEL expressions and `{cel}` templates, and the dialects that compile them: CEL's standard
functions plus a named set of helpers (infradiag.cel.text's formatting helpers, and whatever a caller such
as the playbook engine adds)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from infradiag.cel.analysis import free_identifiers, identifiers, static_type
from infradiag.cel.compiler import Compiler
from infradiag.cel.outline_cache import Outline, OutlineCache
from infradiag.cel.parser_cache import cel_environment
from infradiag.cel.text import TEXT_FUNCTIONS, to_text
from infradiag.cel.tree import Node, decode, encode, from_lark
from infradiag.cel.values import CelError, CelUnsupported, Compiled


class CelCompileError(Exception):
    """The expression is not valid CEL, or uses a part of CEL infradiag does not evaluate."""


class CelEvalError(Exception):
    """The expression failed on this evidence (missing field, type mismatch...)."""


@dataclass(frozen=True)
class Expression:
    """A CEL expression known to compile, and its source text; its program is built on first use."""

    source: str
    build: Callable[[], Compiled] = field(repr=False, compare=False)
    names: frozenset[str] = frozenset()  # every identifier the expression mentions
    free: frozenset[str] = frozenset()  # the identifiers it reads from its activation (not macro variables)
    result_type: str | None = None  # what it always gives: "bool", or e.g. "an int"; None: that depends

    @cached_property
    def program(self) -> Compiled:
        """The compiled program (compiled once, the first time it is needed)."""
        return self.build()

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


@dataclass(frozen=True)
class Template:
    """Text with `{cel}` placeholders."""

    source: str
    parts: tuple[str | Expression, ...]

    @cached_property
    def names(self) -> frozenset[str]:
        """Every identifier its placeholders mention."""
        return frozenset().union(*(p.names for p in self.parts if not isinstance(p, str)))

    @cached_property
    def free(self) -> frozenset[str]:
        """The identifiers its placeholders read from the activation."""
        return frozenset().union(*(p.free for p in self.parts if not isinstance(p, str)))

    def render(self, activation: Mapping[str, Any]) -> str:
        """The text with each placeholder replaced by its value; CelEvalError if one fails."""
        return "".join(
            part if isinstance(part, str) else to_text(part.evaluate(activation)) for part in self.parts
        )


class _ParseError(Exception):
    """celpy could not parse the source; the message is its parser's."""


def _parse(source: str) -> Node:
    """The parse tree of `source`; _ParseError with celpy's message when it is not CEL."""
    from celpy.celparser import CELParseError

    parser = cel_environment()  # celpy and lark load on the first parse only (outline_cache)
    try:
        return from_lark(parser.compile(source))
    except CELParseError as exc:
        raise _ParseError(str(exc)) from None


# `{cel}` is a placeholder; `{{` and `}}` stand for literal braces (Terraform blocks need them).
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


class Dialect:
    """CEL with its standard functions, the formatting helpers and `functions`."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self._compiler = Compiler({**TEXT_FUNCTIONS, **(functions or {})})
        # Compiled expressions are immutable and depend on their source alone: a process that loads the
        # playbooks again (a sweep's next round, `triage --wait`) parses each expression once.
        self._compiled: dict[str, Expression] = {}
        self._templates: dict[str, Template] = {}
        self._outlines = OutlineCache(sorted(self._compiler.functions))

    @property
    def functions(self) -> Mapping[str, Callable[..., Any]]:
        """Every function an expression of this dialect may call (CEL's standard ones included)."""
        return self._compiler.functions

    def compile_expression(self, source: str) -> Expression:
        """Compile CEL source; a syntax error raises CelCompileError with the parser's message. An
        expression that compiled before (outline_cache) is parsed again only when first evaluated."""
        known = self._compiled.get(source)
        if known is not None:
            return known
        outline = self._outlines.get(source)
        if outline is not None:
            tree = outline.tree
            compiled = Expression(
                source, lambda: self._program(source, tree), outline.names, outline.free, outline.result_type
            )
        else:
            try:
                ast = _parse(source)
                program = self._compiler.compile(ast)
            except _ParseError as exc:
                raise CelCompileError(str(exc).splitlines()[0] if str(exc) else "syntax error") from None
            except CelUnsupported as exc:
                raise CelCompileError(str(exc)) from None
            outline = Outline(identifiers(ast), free_identifiers(ast), static_type(ast), encode(ast))
            self._outlines.put(source, outline)
            compiled = Expression(source, lambda: program, outline.names, outline.free, outline.result_type)
        self._compiled[source] = compiled
        return compiled

    def _program(self, source: str, tree: str) -> Compiled:
        try:
            ast = decode(tree)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):  # a damaged cache: parse again
            ast = None
        try:
            return self._compiler.compile(ast if ast is not None else _parse(source))
        except (_ParseError, CelUnsupported) as exc:  # it compiled when its outline was kept
            raise CelEvalError(f"{source}: no longer compiles: {str(exc)[:200]}") from None

    def remember(self) -> None:
        """Keep the outlines of the expressions compiled so far for the next process (outline_cache)."""
        self._outlines.save()

    def compile_template(self, source: str) -> Template:
        """Split `source` into text and compiled `{cel}` placeholders."""
        known = self._templates.get(source)
        if known is not None:
            return known
        parts: list[str | Expression] = []
        position = 0
        for match in _PLACEHOLDER.finditer(source):
            parts.append(source[position : match.start()])
            token = match.group(0)
            parts.append(token[0] if token in ("{{", "}}") else self.compile_expression(match.group(1)))
            position = match.end()
        parts.append(source[position:])
        template = Template(source=source, parts=tuple(p for p in parts if p != ""))
        self._templates[source] = template  # immutable, and depends on its source alone
        return template


# CEL with the formatting helpers only: what probe checks evaluate.
STANDARD_DIALECT = Dialect()
compile_expression = STANDARD_DIALECT.compile_expression
compile_template = STANDARD_DIALECT.compile_template
