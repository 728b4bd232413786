"""The server certificate of an https target as evidence: when it expires, and whether it verified.

When verification succeeds, the certificate comes from the probe's own handshake. When it fails (expired,
untrusted, wrong name), the probe has no certificate to look at, so one more handshake, that does not verify,
reads what the server presents. That is an inspection, not a retry: nothing is sent over it, and the probe's
outcome stays the failed handshake.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from cryptography import x509


@dataclass(frozen=True)
class TlsEvidence:
    """What a probe learned about the server certificate; all None for plain http."""

    not_after: datetime | None = None
    expires_in_days: float | None = None
    verified: bool | None = None
    error: str | None = None


def tls_evidence(der: bytes | None, *, verified: bool | None, error: str | None) -> TlsEvidence:
    """Evidence from a DER certificate (None if none was seen), judged against the wall clock."""
    not_after = _not_after(der)
    days = None
    if not_after is not None:
        days = round((not_after - datetime.now(UTC)).total_seconds() / 86400, 2)
    return TlsEvidence(not_after=not_after, expires_in_days=days, verified=verified, error=error)


def verifies(verify: bool | ssl.SSLContext) -> bool:
    """Whether a handshake with these settings checks the certificate at all."""
    if isinstance(verify, ssl.SSLContext):
        return verify.verify_mode != ssl.CERT_NONE
    return verify


async def presented_certificate(url: str, timeout_s: float) -> bytes | None:
    """DER of the certificate the server at `url` presents, read without verifying it; None if no handshake
    completes within `timeout_s`."""
    parsed = httpx.URL(url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if timeout_s <= 0:
        return None
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(
                parsed.host, parsed.port or 443, ssl=context, server_hostname=parsed.host
            )
    except (OSError, TimeoutError):
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der: bytes | None = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        return der
    finally:
        writer.transport.abort()


def _not_after(der: bytes | None) -> datetime | None:
    if not der:
        return None
    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc
    except ValueError:
        return None
