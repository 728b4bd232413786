"""The errors of the ListTimeSeries semantics: a request Google rejects, or malformed scenario data."""

from __future__ import annotations

from typing import Any, TypeAlias

JsonDict: TypeAlias = dict[str, Any]


class InvalidArgument(Exception):
    """A request that Google rejects with INVALID_ARGUMENT, or one the twin cannot answer exactly."""


class ScenarioDataError(ValueError):
    """The scenario's time series data is malformed (a twin configuration error, not a request error)."""


def unsupported(what: str) -> InvalidArgument:
    """The error for a query Google may accept but the twin cannot answer exactly (message: "twin: ...")."""
    return InvalidArgument(
        f"twin: {what} is not supported (the twin answers only what it can answer exactly)"
    )
