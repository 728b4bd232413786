"""Google's own answers recognised from their bodies, each with what it means to an on-call, and found again
from the one-line detail a probe reports (the views have the detail, not the body)."""

from __future__ import annotations

import pytest

from infradiag.probe.signatures import in_detail, recognise

GFE_503 = (
    b"<!DOCTYPE html>\n<html lang=en>\n<title>503 Server Error</title>\n<h1>Error: Server Error</h1>\n"
    b"<h2>The service you requested is not available yet. Please try again in 30 seconds.</h2>\n"
)


@pytest.mark.parametrize(
    ("body", "meaning"),
    [
        (GFE_503, "no ready instance or revision"),
        (b"Rate exceeded.", "no instance available (max instances reached)"),
        (b"<title>Error 403 (Forbidden)!!1</title>", "an error page of Google's serving infrastructure"),
    ],
)
def test_each_body_is_recognised_and_explained(body: bytes, meaning: str) -> None:
    signature = recognise(body)
    assert signature is not None
    assert signature.meaning == meaning
    assert signature.explanation and signature.explanation != signature.meaning
    assert in_detail(f"503 after 1.2 s from {signature.source}: {signature.meaning}") is signature


def test_a_detail_without_a_signature_names_none() -> None:
    assert recognise(b'{"status": "down"}') is None
    assert in_detail("503 after 1.2 s") is None
    assert in_detail("503 after 1.2 s: no ready instance or revision") is None  # who answered is part of it
