"""Every endpoint fault as a real httpx client sees it: the exception (or status) a probe must classify."""

from __future__ import annotations

import ssl
import time

import httpx
import pytest

from infradiag.twin.endpoints import ServiceEndpoints
from tests.twin.test_endpoints import client_context, with_endpoints


def trusting(endpoints: ServiceEndpoints, read_s: float = 5.0) -> httpx.AsyncClient:
    """An httpx client that trusts the twin's CA and gives up reading after `read_s`."""
    return httpx.AsyncClient(
        verify=client_context(endpoints) if endpoints.ca_pem else True,
        timeout=httpx.Timeout(5.0, read=read_s),
        trust_env=False,
    )


def test_reset_is_a_read_error_with_no_response() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        async with trusting(endpoints) as client:
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)) as caught:
                await client.get(endpoints.urls["svc"] + "/health")
        # An RST surfaces as a connection reset, not as a clean close.
        assert isinstance(caught.value, httpx.ReadError)

    with_endpoints({"svc": {"/health": {"fault": "reset"}}}, check)


def test_hang_is_a_read_timeout() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        async with trusting(endpoints, read_s=0.5) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(endpoints.urls["svc"] + "/health")

    with_endpoints({"svc": {"/health": {"fault": "hang"}}}, check)


def test_refuse_is_a_connect_error() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        async with trusting(endpoints) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(endpoints.urls["svc"] + "/health")

    with_endpoints({"svc": {"*": {"fault": "refuse"}}}, check)


def test_slow_body_gives_the_status_at_once_then_times_out_reading_the_body() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        async with (
            trusting(endpoints, read_s=0.5) as client,
            client.stream("GET", endpoints.urls["svc"] + "/health") as response,
        ):
            assert response.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                await response.aread()
        # A patient client gets the whole body, one byte a second.
        async with trusting(endpoints, read_s=3) as client:
            started = time.perf_counter()
            response = await client.get(endpoints.urls["svc"] + "/health")
            assert (response.status_code, response.text) == (200, "abc")
            assert time.perf_counter() - started >= 1.8

    with_endpoints({"svc": {"/health": {"fault": "slow-body", "body": "abc"}}}, check)


@pytest.mark.parametrize(
    ("fault", "verify_message"),
    [("tls-expired", "certificate has expired"), ("tls-untrusted", "unable to get local issuer certificate")],
)
def test_tls_faults_fail_the_handshake_with_the_certificate_reason(fault: str, verify_message: str) -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        async with trusting(endpoints) as client:
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get(endpoints.urls["svc"] + "/health")
        causes = []
        error: BaseException | None = caught.value
        while error is not None:
            causes.append(error)
            error = error.__cause__ or error.__context__
        (certificate,) = [e for e in causes if isinstance(e, ssl.SSLCertVerificationError)]
        assert certificate.verify_message == verify_message

    # "old" makes the twin's CA exist, so the untrusted certificate is shown not to come from it.
    with_endpoints({"svc": {"*": {"fault": fault}}, "old": {"*": {"fault": "tls-expired"}}}, check)


def test_status_body_and_delay_reach_httpx() -> None:
    async def check(endpoints: ServiceEndpoints) -> None:
        async with trusting(endpoints) as client:
            started = time.perf_counter()
            response = await client.get(endpoints.urls["svc"] + "/")
            assert time.perf_counter() - started >= 0.3
        assert (response.status_code, response.text) == (429, "Rate exceeded.")

    with_endpoints({"svc": {"*": {"status": 429, "body": "Rate exceeded.", "delayMs": 300}}}, check)
