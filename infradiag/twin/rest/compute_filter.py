"""The `filter` parameter of Compute v1 list calls, as the reference documents it for `networks.list` and
every other Compute list (https://cloud.google.com/compute/docs/reference/rest/v1/networks/list):

- AIP-160 comparisons `field OP value` with OP one of `=`, `!=`, `>`, `<`, `<=`, `>=`, and `:*` (the key is
  defined); nested fields with dots; parenthesised expressions joined by AND (the default) and OR.
- Regular expressions: `field eq literal` / `field ne literal`, alone and unparenthesised or as several
  parenthesised expressions; the literal (RE2 syntax) must match the entire field.

The two kinds cannot be mixed. What the twin cannot evaluate faithfully (`:` with a value) is rejected with
400 `invalid`, as Compute rejects filters it cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infradiag.twin.google_errors import GoogleError

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<paren>[()])|(?P<op><=|>=|!=|=|<|>|:)|(?P<quoted>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<word>[^\s()=!<>:\"']+))"
)
_REGEX_OPS = ("eq", "ne")
_SINGLE_REGEX = re.compile(r"(?P<field>[^\s()]+)\s+(?P<op>eq|ne)\s+(?P<literal>.+)", re.DOTALL)


def _invalid(text: str, why: str) -> GoogleError:
    return GoogleError("INVALID_ARGUMENT", f"Invalid value for field 'filter': '{text}'. {why}")


@dataclass(frozen=True)
class _Token:
    kind: str  # paren | op | quoted | word
    text: str


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                break
            raise _invalid(text, "Invalid list filter expression.")
        kind = match.lastgroup or "word"
        out.append(_Token(kind, match.group(kind)))
        position = match.end()
    return out


def _field_values(resource: Mapping[str, Any], field: str) -> list[Any]:
    """Every value at the dotted `field` (lists fan out); empty when the field is absent."""
    values: list[Any] = [resource]
    for part in field.split("."):
        found: list[Any] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            found += [item[part] for item in items if isinstance(item, Mapping) and part in item]
        values = found
    flat: list[Any] = []
    for value in values:
        flat += value if isinstance(value, list) else [value]
    return flat


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unquote(token: _Token) -> str:
    if token.kind == "quoted":
        return re.sub(r"\\(.)", r"\1", token.text[1:-1])
    return token.text


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(value: Any, op: str, literal: str) -> bool:
    actual = _text(value)
    if op == "=":
        return actual == literal
    left, right = _number(actual), _number(literal)
    pair: tuple[Any, Any] = (left, right) if left is not None and right is not None else (actual, literal)
    try:
        return bool(
            {
                ">": pair[0] > pair[1],
                "<": pair[0] < pair[1],
                ">=": pair[0] >= pair[1],
                "<=": pair[0] <= pair[1],
            }[op]
        )
    except TypeError:  # a number against text never matches
        return False


def _comparison(field: str, op: str, literal: str, text: str) -> Predicate:
    if op == ":":
        if literal != "*":
            raise _invalid(text, "The twin evaluates ':' only as ':*' (the key is defined).")
        return lambda r: bool(_field_values(r, field))
    if op in _REGEX_OPS:
        try:
            pattern = re.compile(literal)
        except re.error:
            raise _invalid(text, "Invalid regular expression.") from None
        matches: Predicate = lambda r: any(pattern.fullmatch(_text(v)) for v in _field_values(r, field))  # noqa: E731
        return matches if op == "eq" else (lambda r: not matches(r))
    if op == "!=":
        return lambda r: not any(_compare(v, "=", literal) for v in _field_values(r, field))
    return lambda r: any(_compare(v, op, literal) for v in _field_values(r, field))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.kinds: set[str] = set()  # "regex" | "aip160"

    def _peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _invalid(self.text, "Invalid list filter expression.")
        self.at += 1
        return token

    def parse(self) -> Predicate:
        single = _SINGLE_REGEX.fullmatch(self.text)
        if single is not None:
            # `field eq literal` unparenthesised: the literal is the rest of the text.
            rest = single["literal"].strip()
            if len(rest) > 1 and rest[0] in "\"'" and rest[-1] == rest[0]:
                rest = rest[1:-1]
            return _comparison(single["field"], single["op"], rest, self.text)
        predicate = self._conjunction()
        if self._peek() is not None:
            raise _invalid(self.text, "Invalid list filter expression.")
        if len(self.kinds) > 1:
            raise _invalid(self.text, "Regular expressions and comparisons cannot be mixed.")
        return predicate

    def _conjunction(self) -> Predicate:
        # AIP-160: OR binds tighter than AND; juxtaposition means AND.
        parts = [self._disjunction()]
        while (token := self._peek()) is not None and token.text != ")":
            if token.kind == "word" and token.text == "AND":
                self._next()
            parts.append(self._disjunction())
        return lambda r: all(p(r) for p in parts)

    def _disjunction(self) -> Predicate:
        parts = [self._term()]
        while (token := self._peek()) is not None and token.kind == "word" and token.text == "OR":
            self._next()
            parts.append(self._term())
        return lambda r: any(p(r) for p in parts)

    def _term(self) -> Predicate:
        token = self._next()
        if token.kind == "word" and token.text == "NOT":
            inner = self._term()
            return lambda r: not inner(r)
        if token.kind == "paren" and token.text == "(":
            inner = self._conjunction()
            closing = self._next()
            if closing.text != ")":
                raise _invalid(self.text, "Unbalanced parentheses.")
            return inner
        if token.kind != "word":
            raise _invalid(self.text, "Invalid list filter expression.")
        op = self._next()
        if op.kind == "op":
            self.kinds.add("aip160")
            return _comparison(token.text, op.text, _unquote(self._value()), self.text)
        if op.kind == "word" and op.text in _REGEX_OPS:
            self.kinds.add("regex")
            return _comparison(token.text, op.text, _unquote(self._value()), self.text)
        raise _invalid(self.text, "Invalid list filter expression.")

    def _value(self) -> _Token:
        token = self._next()
        if token.kind not in ("word", "quoted"):
            raise _invalid(self.text, "Invalid list filter expression.")
        return token


def compile_filter(text: str) -> Predicate:
    """A predicate over resources for a Compute `filter`; everything passes an empty filter."""
    if not text.strip():
        return lambda _resource: True
    return _Parser(text.strip()).parse()
