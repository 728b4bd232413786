"""CEL for playbooks and probe checks: parsed by celpy, compiled to closures, evaluated over plain JSON-like
data (dicts, lists, str, int, float, bool, None) with a few formatting functions. A bottom layer: it
imports nothing else of infradiag."""

from infradiag.cel.expression import (
    STANDARD_DIALECT,
    CelCompileError,
    CelEvalError,
    Dialect,
    Expression,
    Template,
    compile_expression,
    compile_template,
)
from infradiag.cel.macros import MACROS
from infradiag.cel.text import TEXT_FUNCTIONS, to_text
from infradiag.cel.values import TYPES

__all__ = [
    "MACROS",
    "STANDARD_DIALECT",
    "TEXT_FUNCTIONS",
    "TYPES",
    "CelCompileError",
    "CelEvalError",
    "Dialect",
    "Expression",
    "Template",
    "compile_expression",
    "compile_template",
    "to_text",
]
