"""Values as text: how a template writes a value, and the formatting helpers every CEL dialect offers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infradiag.cel.values import format_double


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


def _fixed(value: Any, digits: Any) -> str:
    return f"{float(value):.{int(digits)}f}"


def percent(value: Any) -> str:
    """A fraction as a percentage with one decimal: 0.971 -> "97.1 %"."""
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


# Formatting helpers expressions may call besides CEL's standard functions.
TEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "fixed": _fixed,
    "percent": percent,
    "seconds": _seconds,
    "join": _join,
    "tf_name": _tf_name,
    "basename": _basename,
}
