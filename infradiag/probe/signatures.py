"""Bodies Google's serving stack sends, recognised so a probe can say who answered and what it means.

Source: docs/gcp-reference.md, "What probes see" (observed GFE and Cloud Run answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Signature:
    """A body Google's serving stack sends, and what it means."""

    pattern: re.Pattern[str]
    meaning: str
    gfe: bool  # the Google Front End answered (else Cloud Run itself)

    @property
    def source(self) -> str:
        """Who answered, as a detail names it."""
        return "the Google Front End" if self.gfe else "Cloud Run"


_SIGNATURES = (
    Signature(
        re.compile(r"The service you requested is not available yet"), "no ready instance or revision", True
    ),
    Signature(
        re.compile(r"Your client does not have permission to get URL"),
        "the caller may not invoke the service (invoker IAM)",
        True,
    ),
    Signature(
        re.compile(r"The server encountered a temporary error"), "load balancer or backend failure", True
    ),
    Signature(
        re.compile(r"The requested URL .{0,300}? was not found on this server", re.S),
        "not found: ingress blocks the caller, or the default URL is disabled",
        True,
    ),
    Signature(
        re.compile(r"\A\s*Rate exceeded\.\s*\Z"), "no instance available (max instances reached)", False
    ),
)
# GFE error pages: "<title>503 Server Error</title>" and "<title>Error 403 (Forbidden)!!1</title>".
_GFE_TITLE = re.compile(r"<title>\s*(?:\d{3} Server Error|Error \d{3} \([^)<]*\)!!1)\s*</title>", re.I)
_GFE_PAGE = Signature(_GFE_TITLE, "an error page of Google's serving infrastructure", True)


def recognise(body: bytes) -> Signature | None:
    """The signature the body matches (a GFE error page, Cloud Run's `Rate exceeded.`), else None."""
    text = body.decode("utf-8", errors="replace")
    for signature in _SIGNATURES:
        if signature.pattern.search(text):
            return signature
    return _GFE_PAGE if _GFE_TITLE.search(text) else None
