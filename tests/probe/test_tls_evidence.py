"""TLS certificate expiry and trust as evidence: the twin's expired and untrusted certificates, and a server
of the test's own with a valid certificate that expires soon."""

from __future__ import annotations

import datetime as dt
import ssl

import trustme
from aiohttp import web

from infradiag import runtime
from infradiag.evidence.model import ProbeResult, ProbeTarget
from infradiag.probe import probe_all
from tests.probe.servers import own_server, twin_endpoints


def probe_twin_tls(fault: str) -> ProbeResult:
    async def main() -> ProbeResult:
        async with twin_endpoints({"*": {"fault": fault}}) as endpoints:
            trust = ssl.create_default_context(cadata=endpoints.ca_pem.decode()) if endpoints.ca_pem else True
            target = ProbeTarget(service="svc", url=endpoints.urls["svc"] + "/health")
            [result] = await probe_all([target], verify=trust, timeout_s=5)
            return result

    return runtime.run(main())


def test_a_valid_certificate_is_verified_and_its_expiry_recorded() -> None:
    ca = trustme.CA()
    not_after = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=10)
    leaf = ca.issue_cert("127.0.0.1", not_after=not_after)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)

    async def ok(_: web.BaseRequest) -> web.Response:
        return web.json_response({"status": "ok"})

    async def main() -> ProbeResult:
        async with own_server(ok, tls=server_tls) as base:
            [result] = await probe_all([ProbeTarget(service="svc", url=base + "/health")], verify=client_tls)
            return result

    result = runtime.run(main())
    assert (result.outcome, result.tls_verified, result.tls_error) == ("ok", True, None)
    assert result.tls_not_after == not_after
    assert result.tls_expires_in_days is not None and 9.9 < result.tls_expires_in_days <= 10
    assert result.phases.tls is not None and result.phases.tls > 0


def test_an_expired_certificate_is_untrusted_evidence_with_its_past_expiry() -> None:
    result = probe_twin_tls("tls-expired")
    assert (result.outcome, result.tls_verified, result.tls_error) == (
        "tls_error",
        False,
        "certificate has expired",
    )
    assert result.tls_not_after is not None and result.tls_not_after < dt.datetime.now(dt.UTC)
    assert result.tls_expires_in_days is not None and -1.1 < result.tls_expires_in_days < -0.9


def test_an_untrusted_certificate_keeps_its_expiry_and_the_reason() -> None:
    result = probe_twin_tls("tls-untrusted")
    assert (result.outcome, result.tls_verified) == ("tls_error", False)
    assert result.tls_error == "unable to get local issuer certificate"
    assert result.tls_expires_in_days is not None and result.tls_expires_in_days > 0


def test_plain_http_has_no_tls_evidence() -> None:
    async def main() -> ProbeResult:
        async with twin_endpoints(None) as endpoints:
            [result] = await probe_all([ProbeTarget(service="svc", url=endpoints.urls["svc"] + "/health")])
            return result

    result = runtime.run(main())
    assert (result.tls_not_after, result.tls_expires_in_days, result.tls_verified, result.tls_error) == (
        None,
        None,
        None,
        None,
    )
