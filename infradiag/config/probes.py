"""Per-service probe settings: `[environments.NAME.probes.SERVICE]` tables of infradiag.toml.

Every check is validated when the config loads (CEL compiles, regular expressions compile, `auth` has a known
form), so a typo is a one-line error naming the key before anything is probed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

# "id_token": a Google-signed ID token whose audience is the service URL; "env:VAR": a bearer token read from
# the environment variable VAR. The token itself never appears in a config file.
AUTH_FORM = re.compile(r"id_token|env:[A-Za-z_][A-Za-z0-9_]*")
# Errors raised here, and the fix load_config prints for each.
FIXES = {
    "cel_syntax": 'write a CEL expression over `body`, e.g. body.status == "ok" (see README, Probes)',
    "cel_not_bool": 'write a check that is true or false, e.g. body.status == "ok" (see README, Probes)',
    "header_pattern": "write a regular expression the whole header value must match, e.g. application/json.*",
    "auth_form": 'write auth = "id_token" or auth = "env:VARIABLE"',
    "probe_place": 'write path = "/health" (on the service URL) or url = "https://host/health", not both',
}


def check_auth(value: str | None) -> str | None:
    """`value` if it is a known auth form; a pydantic error naming the forms otherwise."""
    if value is not None and not AUTH_FORM.fullmatch(value):
        raise PydanticCustomError("auth_form", "unknown auth {value}", {"value": repr(value)})
    return value


class _Checks(BaseModel):
    """What a healthy answer looks like; unset fields fall back to the service's, then to the defaults."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["http", "websocket"] | None = None
    expect_status: int | None = Field(None, ge=100, le=599)
    body_check: str | None = None
    expect_headers: dict[str, str] | None = None
    latency_budget_ms: float | None = Field(None, gt=0)
    message: str | None = None  # websocket: sent once upgraded; a reply must come back

    @field_validator("body_check")
    @classmethod
    def _compiles(cls, source: str | None) -> str | None:
        if source is None:
            return None
        # Imported here: only configs with body checks pay for CEL.
        from infradiag.cel import STANDARD_DIALECT, CelCompileError

        try:
            expression = STANDARD_DIALECT.compile_expression(source)
        except CelCompileError as exc:
            raise PydanticCustomError("cel_syntax", "invalid CEL: {problem}", {"problem": str(exc)}) from None
        if expression.result_type not in (None, "bool"):
            raise PydanticCustomError(
                "cel_not_bool",
                "{source} is never true or false: it gives {kind}",
                {"source": source, "kind": expression.result_type},
            )
        return source

    @field_validator("expect_headers")
    @classmethod
    def _patterns_compile(cls, headers: dict[str, str] | None) -> dict[str, str] | None:
        for name, pattern in (headers or {}).items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise PydanticCustomError(
                    "header_pattern",
                    "header {name}: {pattern} is not a regular expression ({problem})",
                    {"name": name, "pattern": repr(pattern), "problem": str(exc)},
                ) from None
        return headers


class PathProbe(_Checks):
    """One probed path of the service's URL, or a URL of its own (a custom domain, the load balancer in front
    of the service), with checks of its own."""

    path: str | None = Field(None, pattern=r"^/")
    url: str | None = Field(None, pattern=r"^https?://[^/\s]+(/\S*)?$")

    @model_validator(mode="after")
    def _one_place(self) -> PathProbe:
        if (self.path is None) == (self.url is None):
            raise PydanticCustomError("probe_place", "give either path or url")
        return self


def _path_entry(value: Any) -> Any:
    # A path is written "/health" or "https://staging.example.com/health", or as an inline table
    # {path = "/ws", kind = "websocket"} / {url = "https://...", expect_status = 204}.
    if isinstance(value, str):
        return {"url": value} if value.startswith(("http://", "https://")) else {"path": value}
    return value


class ServiceProbes(_Checks):
    """`[environments.NAME.probes.SERVICE]`: the paths to probe and the checks they share."""

    paths: list[Annotated[PathProbe, BeforeValidator(_path_entry)]] = Field(default_factory=list)
    auth: str | None = None

    @field_validator("auth")
    @classmethod
    def _auth_form(cls, value: str | None) -> str | None:
        return check_auth(value)


def remember_body_checks(tables: Iterable[ServiceProbes]) -> None:
    """Keep the outlines of the body checks of these validated probe tables for the next start (and the probe
    process), which then need not parse them (cel.outline_cache): one write of the outline cache for all of
    them, and none, nor any import of CEL, when no table has a body check."""
    if any(table.body_check or any(p.body_check for p in table.paths) for table in tables):
        from infradiag.cel import STANDARD_DIALECT

        STANDARD_DIALECT.remember()
