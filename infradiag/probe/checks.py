"""Checks of an answer beyond "it came": status, headers, a CEL expression over the body, a latency budget.

Each failed check is one line with the actual value, e.g. `status 503, expected 200`,
`body check `body.database == "ok"` failed: database = "down"`, `latency 812 ms, budget 500 ms`.
A status other than the expected one is the whole story: the other checks are skipped, since judging an error
page's body or headers against a healthy answer's would only add noise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from infradiag.evidence.model import ProbeTarget
from infradiag.probe.text import duration, redact

if TYPE_CHECKING:
    from infradiag.cel import Expression

VALUE_CHARS = 60
# Field paths a body check reads (`body.database`, `body.checks["db"]`, `body.items[0]`): their values
# are what a failure reports.
_FIELD = re.compile(r"\bbody(?:\.[A-Za-z_][A-Za-z0-9_]*|\[(?:\"[^\"]*\"|'[^']*'|\d+)\])+")


@dataclass(frozen=True)
class _BodyCheck:
    expression: Expression
    fields: tuple[tuple[str, Expression], ...]  # shown name -> expression reading that field


@dataclass(frozen=True)
class Checks:
    """The compiled checks of one target."""

    expect_status: int
    headers: tuple[tuple[str, re.Pattern[str]], ...]
    body: _BodyCheck | None
    latency_budget_ms: float | None

    @classmethod
    def of(cls, target: ProbeTarget) -> Checks:
        """Compile the target's checks; ValueError naming the target for an invalid CEL or pattern."""
        try:
            headers = tuple((name.lower(), re.compile(p)) for name, p in target.expect_headers.items())
        except re.error as exc:
            raise ValueError(
                f"probe target {target.service} {target.path}: bad header pattern: {exc}"
            ) from None
        body = _compile_body_check(target) if target.body_check else None
        return cls(target.expect_status, headers, body, target.latency_budget_ms)

    def failures(self, status: int, headers: httpx.Headers, body: bytes, latency_ms: float) -> list[str]:
        """Every failed check of a complete answer, each with the actual value; empty when all pass."""
        if status != self.expect_status:
            return [f"status {status}, expected {self.expect_status}"]
        failed = [
            problem for name, pattern in self.headers if (problem := _header_problem(name, pattern, headers))
        ]
        if self.body is not None and (problem := _body_problem(self.body, status, headers, body)):
            failed.append(problem)
        if self.latency_budget_ms is not None and latency_ms > self.latency_budget_ms:
            failed.append(f"latency {duration(latency_ms)}, budget {duration(self.latency_budget_ms)}")
        return failed


def _compile_body_check(target: ProbeTarget) -> _BodyCheck:
    # Imported here: only targets with body checks pay for CEL.
    from infradiag.cel import CelCompileError, compile_expression

    source = target.body_check or ""
    try:
        expression = compile_expression(source)
        shown = dict.fromkeys(match.group(0) for match in _FIELD.finditer(source))
        fields = tuple((_field_name(path), compile_expression(path)) for path in shown)
    except CelCompileError as exc:
        raise ValueError(f"probe target {target.service} {target.path}: invalid CEL: {exc}") from None
    return _BodyCheck(expression, fields)


def _field_name(path: str) -> str:
    # `body.database` -> `database`, `body["a-b"]` -> `["a-b"]`
    return path.removeprefix("body").removeprefix(".")


def _header_problem(name: str, pattern: re.Pattern[str], headers: httpx.Headers) -> str | None:
    values = headers.get_list(name)
    if not values:
        return f"header {name} missing, expected /{pattern.pattern}/"
    value = ", ".join(values)
    if pattern.fullmatch(value):
        return None
    return f"header {name} is {_shown(json.dumps(value))}, expected /{pattern.pattern}/"


def _body_problem(check: _BodyCheck, status: int, headers: httpx.Headers, body: bytes) -> str | None:
    from infradiag.cel import CelEvalError, to_text

    text = body.decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    activation = {
        "body": parsed,
        "headers": {name.lower(): value for name, value in headers.items()},
        "status": status,
    }
    head = f"body check `{check.expression.source}` failed"
    try:
        value = check.expression.evaluate(activation)
    except CelEvalError as exc:
        reason = str(exc).removeprefix(f"{check.expression.source}: ")
        return f"{head}: {redact(reason)}{_not_json(parsed)}"
    if type(value) is not bool:
        return f"{head}: it gave {_shown(to_text(value))}, not true or false"
    if value:
        return None
    return f"{head}: {_field_values(check, activation) or 'it was false'}"


def _not_json(parsed: Any) -> str:
    return " (the body is not JSON)" if isinstance(parsed, str) else ""


def _field_values(check: _BodyCheck, activation: dict[str, Any]) -> str:
    from infradiag.cel import CelEvalError

    shown = []
    for name, expression in check.fields:
        try:
            value = expression.evaluate(activation)
        except CelEvalError:
            shown.append(f"{name} missing")
            continue
        shown.append(f"{name} = {_shown(json.dumps(value, ensure_ascii=False))}")
    return ", ".join(shown)


def _shown(value: str) -> str:
    value = redact(value)
    return value if len(value) <= VALUE_CHARS else value[: VALUE_CHARS - 1] + "…"
