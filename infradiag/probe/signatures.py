"""Bodies Google's serving stack sends, recognised so a probe can say who answered and what it means.

Source: docs/gcp-reference.md, "What probes see" (observed GFE and Cloud Run answers), and Cloud Run's
troubleshooting guide (https://cloud.google.com/run/docs/troubleshooting) for what each means.
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
    # What that answer tells an on-call who has not seen it before: who could not do what. The report adds
    # which finding explains it here (report/build.py).
    explanation: str

    @property
    def source(self) -> str:
        """Who answered, as a detail names it."""
        return "the Google Front End" if self.gfe else "Cloud Run"


_SIGNATURES = (
    Signature(
        re.compile(r"The service you requested is not available yet"),
        "no ready instance or revision",
        True,
        "no instance was ready to take the request: none started or passed its health checks",
    ),
    Signature(
        re.compile(r"Your client does not have permission to get URL"),
        "the caller may not invoke the service (invoker IAM)",
        True,
        "Google refused the request before any instance saw it: the caller lacks roles/run.invoker",
    ),
    Signature(
        re.compile(r"The server encountered a temporary error"),
        "load balancer or backend failure",
        True,
        "the load balancer got no usable answer from its backend (unhealthy, unreachable or crashing)",
    ),
    Signature(
        re.compile(r"The requested URL .{0,300}? was not found on this server", re.S),
        "not found: ingress blocks the caller, or the default URL is disabled",
        True,
        "Google served no service at this URL for this caller: ingress settings refuse its origin, or the"
        " run.app URL is disabled",
    ),
    Signature(
        re.compile(r"\A\s*Rate exceeded\.\s*\Z"),
        "no instance available (max instances reached)",
        False,
        "Cloud Run dropped the request: every instance was busy and it could not start another (max"
        " instances reached, or not fast enough)",
    ),
)
# GFE error pages: "<title>503 Server Error</title>" and "<title>Error 403 (Forbidden)!!1</title>".
_GFE_TITLE = re.compile(r"<title>\s*(?:\d{3} Server Error|Error \d{3} \([^)<]*\)!!1)\s*</title>", re.I)
_GFE_PAGE = Signature(
    _GFE_TITLE,
    "an error page of Google's serving infrastructure",
    True,
    "Google's front end answered instead of the service: the request never got a response from an instance",
)


def recognise(body: bytes) -> Signature | None:
    """The signature the body matches (a GFE error page, Cloud Run's `Rate exceeded.`), else None."""
    text = body.decode("utf-8", errors="replace")
    for signature in _SIGNATURES:
        if signature.pattern.search(text):
            return signature
    return _GFE_PAGE if _GFE_TITLE.search(text) else None


def in_detail(detail: str) -> Signature | None:
    """The signature a probe's one-line detail names (`... from the Google Front End: MEANING`), else None:
    the views have the detail, not the body."""
    for signature in (*_SIGNATURES, _GFE_PAGE):
        if f" from {signature.source}: {signature.meaning}" in detail:
            return signature
    return None
