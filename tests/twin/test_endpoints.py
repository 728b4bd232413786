"""ServiceEndpoints on real loopback sockets: every behaviour and fault of docs/scenario-format.md,
"Endpoints"."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from cryptography import x509

from infradiag.twin.endpoints import ServiceEndpoints, port_fault
from infradiag.twin.scenario import EndpointBehaviour

Paths = dict[str, dict[str, Any]]


def behaviours(spec: Paths) -> dict[str, EndpointBehaviour]:
    return {path: EndpointBehaviour.model_validate(raw) for path, raw in spec.items()}


def with_endpoints(
    spec: dict[str, Paths],
    check: Callable[[ServiceEndpoints], Awaitable[None]],
    services: list[str] | None = None,
) -> None:
    """Start endpoints for `spec` in a fresh event loop, run `check` against them, always close them."""

    async def main() -> None:
        names = services if services is not None else list(spec)
        endpoints = await ServiceEndpoints.start(
            names, {name: behaviours(paths) for name, paths in spec.items()}
        )
        try:
            await check(endpoints)
        finally:
            await endpoints.close()

    asyncio.run(main())


async def get(url: str, **client_options: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5, trust_env=False, **client_options) as client:
        return await client.get(url)


async def send_request(url: str, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = httpx.URL(url).host, httpx.URL(url).port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


def test_service_without_entry_answers_every_path_ok() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        for path in ("/health", "/anything/else"):
            response = await get(endpoints.urls["plain"] + path)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            assert response.json() == {"status": "ok"}

    with_endpoints({}, check, services=["plain"])


def test_each_service_gets_its_own_loopback_port() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        assert set(endpoints.urls) == {"a", "b"}
        ports = {httpx.URL(url).port for url in endpoints.urls.values()}
        assert len(ports) == 2
        assert all(url.startswith("http://127.0.0.1:") for url in endpoints.urls.values())

    # "ghost" has behaviours but is not a service: it is not served.
    with_endpoints({"ghost": {"*": {"status": 500}}}, check, services=["a", "b"])


def test_unlisted_path_is_404_without_star_and_star_behaviour_with_it() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        assert (await get(endpoints.urls["strict"] + "/other")).status_code == 404
        assert (await get(endpoints.urls["strict"] + "/health")).status_code == 200
        fallback = await get(endpoints.urls["loose"] + "/other")
        assert (fallback.status_code, fallback.text) == (503, "default")
        assert (await get(endpoints.urls["loose"] + "/health")).status_code == 204

    with_endpoints(
        {
            "strict": {"/health": {"status": 200}},
            "loose": {"*": {"status": 503, "body": "default"}, "/health": {"status": 204}},
        },
        check,
    )


def test_json_body_and_headers_are_served() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        response = await get(endpoints.urls["api"] + "/health")
        assert response.status_code == 207
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-revision"] == "api-00042"
        assert json.loads(response.content) == {"database": "down", "checks": [1, 2]}
        html = await get(endpoints.urls["api"] + "/page")
        assert html.headers["content-type"] == "text/html"
        assert html.text == "<p>hi</p>"

    with_endpoints(
        {
            "api": {
                "/health": {
                    "status": 207,
                    "json": {"database": "down", "checks": [1, 2]},
                    "headers": {"X-Revision": "api-00042"},
                },
                "/page": {"body": "<p>hi</p>", "headers": {"Content-Type": "text/html"}},
            }
        },
        check,
    )


def test_delay_comes_before_the_status_line() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        reader, writer = await send_request(endpoints.urls["slow"], "/health")
        started = time.perf_counter()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        waited = time.perf_counter() - started
        writer.close()
        assert status_line.startswith(b"HTTP/1.1 200")
        assert waited >= 0.4

    with_endpoints({"slow": {"/health": {"delayMs": 400}}}, check)


def test_reset_answers_with_rst_not_fin() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        reader, writer = await send_request(endpoints.urls["svc"], "/health")
        # A FIN would read as b"" (end of stream); SO_LINGER 0 makes it a reset.
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(), 5)
        writer.close()

    with_endpoints({"svc": {"/health": {"fault": "reset"}}}, check)


def test_hang_accepts_and_never_answers_and_close_is_prompt() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        connections = [await send_request(endpoints.urls["svc"], "/health") for _ in range(3)]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(connections[0][0].read(1), 0.5)
        started = time.perf_counter()
        await endpoints.close()
        assert time.perf_counter() - started < 1.0
        # The hung connections are gone with the endpoints: no answer, just the end of the stream.
        for reader, writer in connections:
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()

    with_endpoints({"svc": {"/health": {"fault": "hang"}}}, check)


def test_slow_body_sends_headers_then_one_byte_per_second() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        reader, writer = await send_request(endpoints.urls["svc"], "/health")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        assert head.startswith(b"HTTP/1.1 200")
        assert b"Content-Length: 3" in head
        arrivals = []
        for _ in range(3):
            arrivals.append((await asyncio.wait_for(reader.readexactly(1), 3), time.perf_counter()))
        writer.close()
        assert b"".join(byte for byte, _ in arrivals) == b"abc"
        assert arrivals[-1][1] - arrivals[0][1] >= 1.8

    with_endpoints({"svc": {"/health": {"fault": "slow-body", "body": "abc"}}}, check)


def test_refuse_on_any_path_means_nothing_listens_on_the_port() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        url = httpx.URL(endpoints.urls["down"])
        assert url.scheme == "http"
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(url.host, url.port)

    with_endpoints({"down": {"/ready": {"status": 200}, "/health": {"fault": "refuse"}}}, check)


def client_context(endpoints: ServiceEndpoints) -> ssl.SSLContext:
    """A client that trusts the twin's CA, as a client trusts a public CA."""
    assert endpoints.ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    return ssl.create_default_context(cadata=endpoints.ca_pem.decode())


def refused_handshake(message: str) -> Callable[[ServiceEndpoints], Awaitable[None]]:
    """A check that service svc answers on https and that a client trusting the twin's CA fails to verify its
    certificate with `message`."""

    async def check(endpoints: ServiceEndpoints) -> None:
        url = httpx.URL(endpoints.urls["svc"])
        assert url.scheme == "https"
        with pytest.raises(ssl.SSLCertVerificationError) as failure:
            await asyncio.open_connection(url.host, url.port, ssl=client_context(endpoints))
        assert failure.value.verify_message == message

    return check


def test_tls_expired_serves_https_with_an_expired_certificate() -> None:
    with_endpoints({"svc": {"*": {"fault": "tls-expired"}}}, refused_handshake("certificate has expired"))


def served_not_after(writer: asyncio.StreamWriter) -> dt.datetime:
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).not_valid_after_utc


@pytest.mark.parametrize(
    ("given", "days"), [({"expiresInDays": 5}, 5.0), ({"expiresInDays": 0.5}, 0.5), ({}, 7.0)]
)
def test_tls_expiring_certificate_verifies_against_the_twin_ca_and_ends_in_n_days(
    given: dict[str, Any], days: float
) -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        url = httpx.URL(endpoints.urls["svc"])
        assert url.scheme == "https"
        before = dt.datetime.now(dt.UTC)
        # The handshake verifies: the certificate chains to the twin's CA and is valid now.
        _, writer = await asyncio.open_connection(url.host, url.port, ssl=client_context(endpoints))
        try:
            not_after = served_not_after(writer)
        finally:
            writer.close()
        after = dt.datetime.now(dt.UTC)
        # Certificates carry whole seconds.
        slack = dt.timedelta(seconds=1)
        assert before + dt.timedelta(days=days) - slack <= not_after <= after + dt.timedelta(days=days)

    with_endpoints({"svc": {"*": {"fault": "tls-expiring", **given}}}, check)


def test_tls_expiring_paths_keep_their_behaviour_behind_a_valid_certificate() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        health = await get(endpoints.urls["svc"] + "/health", verify=client_context(endpoints))
        assert (health.status_code, health.text) == (503, "renewal is stuck")

    with_endpoints(
        {
            "svc": {
                "/health": {
                    "fault": "tls-expiring",
                    "expiresInDays": 2,
                    "status": 503,
                    "body": "renewal is stuck",
                }
            }
        },
        check,
    )


def test_tls_untrusted_certificate_comes_from_an_unknown_ca() -> None:
    # The expired service makes the twin's CA exist, so the untrusted one is shown not to come from it.
    with_endpoints(
        {"svc": {"*": {"fault": "tls-untrusted"}}, "old": {"*": {"fault": "tls-expired"}}},
        refused_handshake("unable to get local issuer certificate"),
    )


def test_tls_fault_applies_to_the_port_and_paths_keep_their_behaviour() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        assert endpoints.urls["svc"].startswith("https://")
        # A client that skips verification sees each path's own answer.
        health = await get(endpoints.urls["svc"] + "/health", verify=False)
        other = await get(endpoints.urls["svc"] + "/other", verify=False)
        assert (health.status_code, health.text) == (503, "behind a bad certificate")
        assert other.status_code == 404

    with_endpoints(
        {"svc": {"/health": {"fault": "tls-untrusted", "status": 503, "body": "behind a bad certificate"}}},
        check,
    )


def test_port_fault_prefers_star_then_first_path_with_one() -> None:
    assert port_fault(behaviours({"/a": {"fault": "tls-expired"}, "*": {"fault": "refuse"}})) == "refuse"
    assert (
        port_fault(
            behaviours({"/a": {"fault": "hang"}, "/b": {"fault": "tls-untrusted"}, "/c": {"fault": "refuse"}})
        )
        == "tls-untrusted"
    )
    assert port_fault(behaviours({"*": {"fault": "reset"}, "/b": {"fault": "slow-body"}})) is None
