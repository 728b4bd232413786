"""Text a probe keeps as evidence: redacted, short, and free of the credentials it sent."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any

EXCERPT_CHARS = 200
REDACTED = "[redacted]"

# Order matters: an Authorization value is redacted whole before its Bearer token would be.
_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}"), "[redacted-jwt]"),
    (
        re.compile(
            r"(?i)((?:api[_-]?key|access[_-]?token|id[_-]?token|refresh[_-]?token|client[_-]?secret|password)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;&}]+"
        ),
        r"\1[redacted]",
    ),
)


def redact(text: str) -> str:
    """`text` with bearer tokens, JWT-looking strings, Authorization values and credential fields masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each known secret (a token the probe sent) replaced, then redacted.

    Patterns cannot recognise every token shape (an opaque API key echoed by a server looks like any word),
    so the tokens the probe itself sent are removed literally, longest first.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return redact(text)


def excerpt(body: bytes, content_type: str = "", secrets: Iterable[str] = ()) -> str | None:
    """At most 200 characters of the body as readable text: HTML reduced to its text, `secrets` (tokens the
    probe sent) and anything that looks like a credential redacted, whitespace collapsed; None if empty."""
    text = body.decode("utf-8", errors="replace")
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        text = _html_text(text)
    # Redact before cutting, so that no secret is shortened past recognition.
    text = " ".join(scrub(text, secrets).split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1] + "…"
    return text or None


def duration(ms: float) -> str:
    """Milliseconds as a person reads them: `4.2 ms`, `312 ms`, `30.0 s`."""
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def _html_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", markup)
    return html.unescape(re.sub(r"<[^>]*>", " ", markup))


_CREDENTIAL_KEY = re.compile(
    r"(?i)(?:authorization|api[_-]?key|(?:access|id|refresh)[_-]?token|token|client[_-]?secret|secret|password)"
)


def json_object(body: bytes, secrets: Iterable[str] = ()) -> dict[str, Any] | None:
    """The body as a JSON object with credential-named fields and secret-looking strings redacted; None
    when it is not a (complete) JSON object."""
    try:
        parsed = json.loads(body.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    secrets = list(secrets)
    redacted: dict[str, Any] = _redact_value(parsed, secrets)
    return redacted


def _redact_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if _CREDENTIAL_KEY.fullmatch(str(key)) else _redact_value(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_value(item, secrets) for item in value]
    if isinstance(value, str):
        return scrub(value, secrets)
    return value
