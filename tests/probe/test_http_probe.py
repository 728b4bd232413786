"""probe_all against the twin's endpoints on real loopback sockets: outcome, status, detail, phases."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
from typing import Any

import pytest

from infradiag import runtime
from infradiag.evidence.model import ProbeResult, ProbeTarget
from infradiag.probe import excerpt, probe_all, redact
from infradiag.probe.kernel import JIFFY_S
from infradiag.twin.endpoints import ServiceEndpoints
from infradiag.twin.scenario import EndpointBehaviour

JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9."
    "eyJzdWIiOiJzYUBhY21lLXN0YWdpbmcuaWFtLmdzZXJ2aWNlYWNjb3VudC5jb20ifQ."
    "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
)
GFE_503 = (
    '<html><head><meta http-equiv="content-type" content="text/html;charset=utf-8">\n'
    "<title>503 Server Error</title>\n</head>\n<body text=#000000 bgcolor=#ffffff>\n"
    "<h1>Error: Server Error</h1>\n<h2>The service you requested is not available yet. Please try again in 30"
    " seconds.</h2>\n<h2></h2>\n</body></html>\n"
)
GFE_403 = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 403 (Forbidden)!!1</title>\n"
    "  <style>*{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}</style>\n"
    "  <p><b>403.</b> <ins>That\u2019s an error.</ins>\n  <p>Your client does not have permission to get URL"
    " <code>/health</code> from this server.  <ins>That\u2019s all we know.</ins>\n"
)
GFE_502 = (
    "<html><head><title>502 Server Error</title></head><body><h1>Error: Server Error</h1>"
    "<h2>The server encountered a temporary error and could not complete your request.<p>Please try again in"
    " 30 seconds.</h2></body></html>"
)


def probe(
    paths: dict[str, dict[str, Any]] | None,
    path: str = "/health",
    *,
    expect_status: int = 200,
    trust_twin_ca: bool = False,
    **options: Any,
) -> ProbeResult:
    """Serve one service `svc` with `paths` (None: no entry), probe `path` once, close everything."""
    [result] = probe_paths(paths, [path], expect_status=expect_status, trust_twin_ca=trust_twin_ca, **options)
    return result


def probe_paths(
    paths: dict[str, dict[str, Any]] | None,
    probed: list[str],
    *,
    expect_status: int = 200,
    trust_twin_ca: bool = False,
    **options: Any,
) -> list[ProbeResult]:
    async def main() -> list[ProbeResult]:
        behaviours = {} if paths is None else {"svc": _behaviours(paths)}
        endpoints = await ServiceEndpoints.start(["svc"], behaviours)
        try:
            if trust_twin_ca:
                options["verify"] = ssl.create_default_context(cadata=endpoints.ca_pem.decode())
            targets = [
                ProbeTarget(service="svc", url=endpoints.urls["svc"] + p, path=p, expect_status=expect_status)
                for p in probed
            ]
            return await probe_all(targets, **options)
        finally:
            await endpoints.close()

    return runtime.run(main())


def _behaviours(paths: dict[str, dict[str, Any]]) -> dict[str, EndpointBehaviour]:
    return {path: EndpointBehaviour.model_validate(raw) for path, raw in paths.items()}


def assert_connected(result: ProbeResult) -> None:
    assert result.phases.connect is not None and result.phases.connect > 0
    assert result.phases.total is not None and result.phases.total > 0
    assert result.latency_ms == result.phases.total
    assert result.phases.dns is None


def test_healthy_service_is_ok_with_every_phase_timed() -> None:
    result = probe(None)
    assert (result.outcome, result.ok, result.status) == ("ok", True, 200)
    assert re.fullmatch(r"200 after \d+(\.\d)? ms", result.detail)
    assert_connected(result)
    assert result.phases.tls is None
    assert result.phases.first_byte is not None and 0 < result.phases.first_byte <= result.latency_ms
    assert result.body_excerpt == '{"status": "ok"}'
    assert (result.service, result.path, result.served_by) == ("svc", "/health", None)
    assert result.url.endswith("/health")


def test_5xx_and_4xx_statuses() -> None:
    down, missing = probe_paths({"/health": {"status": 503, "body": "db down"}}, ["/health", "/nope"])
    assert (down.outcome, down.ok, down.status, down.body_excerpt) == ("http_5xx", False, 503, "db down")
    assert re.fullmatch(r"503 after \d+(\.\d)? ms", down.detail)
    assert (missing.outcome, missing.status) == ("http_4xx", 404)
    assert_connected(down)
    assert_connected(missing)


def test_ok_means_the_expected_status_and_another_success_is_an_assertion_failure() -> None:
    result = probe({"/health": {"status": 200}}, expect_status=204)
    assert (result.outcome, result.ok, result.status) == ("assertion_failed", False, 200)
    assert result.detail.endswith("(expected 204)")
    expected_404 = probe({"/health": {"status": 404}}, expect_status=404)
    assert (expected_404.outcome, expected_404.ok) == ("ok", True)


def test_delay_is_honoured_in_latency_and_first_byte() -> None:
    result = probe({"/health": {"delayMs": 300}})
    assert result.outcome == "ok"
    # The answer's arrival is the kernel's, known to a jiffy (kernel.kernel_instant).
    assert result.latency_ms >= 300 - JIFFY_S * 1000
    assert result.phases.first_byte is not None and result.phases.first_byte >= 300 - JIFFY_S * 1000


def test_json_body_is_read_and_excerpted() -> None:
    result = probe({"/health": {"json": {"database": "down", "cache": "ok"}, "headers": {"X-Rev": "7"}}})
    assert result.outcome == "ok"
    assert result.body_excerpt == '{"database": "down", "cache": "ok"}'


def test_hang_is_cut_at_the_timeout() -> None:
    result = probe({"/health": {"fault": "hang"}}, timeout_s=0.5)
    assert (result.outcome, result.ok, result.status) == ("timeout", False, None)
    assert result.detail == "timed out after 0.5 s (no response headers)"
    assert 500 <= result.latency_ms < 1500
    assert_connected(result)
    assert result.phases.first_byte is None


def test_slow_body_times_out_while_reading_the_body() -> None:
    result = probe({"/health": {"fault": "slow-body", "body": "abcdefghij"}}, timeout_s=1.5)
    assert (result.outcome, result.status) == ("timeout", 200)
    assert re.fullmatch(
        r"timed out after 1\.5 s \(status 200, body incomplete after [123] bytes\)", result.detail
    )
    assert result.body_excerpt is not None and "abcdefghij".startswith(result.body_excerpt)
    assert result.phases.first_byte is not None and result.phases.first_byte < 1000
    assert 1500 <= result.latency_ms < 2500


def test_slow_body_within_the_timeout_is_answered_slowly() -> None:
    result = probe({"/health": {"fault": "slow-body", "body": "ok!"}}, timeout_s=5)
    assert (result.outcome, result.body_excerpt) == ("ok", "ok!")
    # Three bytes, one per second: the last arrives two seconds after the first.
    assert result.latency_ms >= 1900


def test_refused_connection() -> None:
    result = probe({"*": {"fault": "refuse"}})
    assert (result.outcome, result.ok, result.status) == ("connect_refused", False, None)
    assert re.fullmatch(r"connection refused after \d+(\.\d)? ms", result.detail)
    # The attempt itself is timed; no later phase happened.
    assert result.phases.connect is not None
    assert (result.phases.tls, result.phases.first_byte) == (None, None)


def test_reset_connection() -> None:
    result = probe({"/health": {"fault": "reset"}})
    assert (result.outcome, result.status) == ("connect_reset", None)
    assert re.fullmatch(r"connection reset after \d+(\.\d)? ms", result.detail)
    assert_connected(result)


def test_reset_after_a_delay_is_timed_from_the_start() -> None:
    result = probe({"/health": {"fault": "reset", "delayMs": 200}})
    assert result.outcome == "connect_reset"
    assert result.latency_ms >= 200


def test_expired_certificate_is_a_tls_error() -> None:
    result = probe({"*": {"fault": "tls-expired"}}, trust_twin_ca=True)
    assert (result.outcome, result.ok, result.status) == ("tls_error", False, None)
    assert result.detail == "TLS: certificate has expired"
    assert result.url.startswith("https://")
    assert_connected(result)
    assert result.phases.tls is not None and result.phases.tls > 0


def test_untrusted_certificate_is_a_tls_error() -> None:
    result = probe({"*": {"fault": "tls-untrusted"}}, trust_twin_ca=True)
    assert (result.outcome, result.status) == ("tls_error", None)
    assert result.detail == "TLS: unable to get local issuer certificate"
    assert result.phases.tls is not None


def test_tls_errors_with_the_default_trust_store_too() -> None:
    expired = probe({"*": {"fault": "tls-expired"}})
    untrusted = probe({"*": {"fault": "tls-untrusted"}})
    assert (expired.outcome, untrusted.outcome) == ("tls_error", "tls_error")
    assert expired.detail.startswith("TLS: ") and untrusted.detail.startswith("TLS: ")


def test_unresolvable_host_is_a_dns_error() -> None:
    target = ProbeTarget(service="ghost", url="http://ghost-service.invalid/health")
    [result] = runtime.run(probe_all([target], timeout_s=10))
    assert (result.outcome, result.ok, result.status) == ("dns_error", False, None)
    assert result.detail.startswith("DNS: ghost-service.invalid does not resolve (")
    assert result.phases.dns is not None
    assert (result.phases.connect, result.phases.tls, result.phases.first_byte) == (None, None, None)


def test_a_host_name_is_resolved_in_a_phase_of_its_own() -> None:
    async def main() -> ProbeResult:
        endpoints = await ServiceEndpoints.start(["svc"], {})
        try:
            url = endpoints.urls["svc"].replace("127.0.0.1", "localhost") + "/health"
            [result] = await probe_all([ProbeTarget(service="svc", url=url)])
            return result
        finally:
            await endpoints.close()

    result = runtime.run(main())
    # localhost may resolve to ::1 first, where nothing listens: the next address is tried, as a browser does.
    assert (result.outcome, result.status) == ("ok", 200)
    assert result.phases.dns is not None and result.phases.dns > 0
    assert result.phases.connect is not None and result.phases.first_byte is not None
    # The phases add up to the total (the body arrived with the headers), to the rounding of each.
    accounted = result.phases.dns + result.phases.connect + result.phases.first_byte
    assert accounted == pytest.approx(result.latency_ms, abs=0.002)


def test_gfe_503_page_is_recognised() -> None:
    result = probe({"/health": {"status": 503, "body": GFE_503, "headers": {"Content-Type": "text/html"}}})
    assert (result.outcome, result.status, result.served_by) == ("http_5xx", 503, "gfe")
    assert re.fullmatch(
        r"503 after \d+(\.\d)? ms from the Google Front End: no ready instance or revision", result.detail
    )
    assert result.body_excerpt is not None
    assert result.body_excerpt.startswith("503 Server Error Error: Server Error The service you requested")


def test_gfe_403_and_502_pages_and_rate_exceeded() -> None:
    forbidden, bad_gateway, rate = probe_paths(
        {
            "/403": {"status": 403, "body": GFE_403, "headers": {"Content-Type": "text/html; charset=UTF-8"}},
            "/502": {"status": 502, "body": GFE_502},
            "/429": {"status": 429, "body": "Rate exceeded."},
        },
        ["/403", "/502", "/429"],
    )
    assert (forbidden.outcome, forbidden.served_by) == ("http_4xx", "gfe")
    assert "invoker IAM" in forbidden.detail
    assert forbidden.body_excerpt is not None and "margin" not in forbidden.body_excerpt
    assert (bad_gateway.outcome, bad_gateway.served_by) == ("http_5xx", "gfe")
    assert "load balancer or backend failure" in bad_gateway.detail
    assert (rate.outcome, rate.served_by, rate.body_excerpt) == ("http_4xx", None, "Rate exceeded.")
    assert "from Cloud Run: no instance available (max instances reached)" in rate.detail


def test_an_app_page_is_not_mistaken_for_google() -> None:
    result = probe({"/health": {"status": 503, "body": "<title>Maintenance</title> back soon"}})
    assert (result.served_by, result.detail.count("Google")) == (None, 0)


def test_excerpt_redacts_a_jwt_and_credentials() -> None:
    body = json.dumps(
        {"user": "sa", "token": JWT, "note": "Authorization: Bearer abc.def-123", "api_key": "AIzaXYZ"}
    )
    result = probe({"/health": {"status": 500, "body": body}})
    assert result.body_excerpt is not None
    assert "[redacted-jwt]" in result.body_excerpt
    for secret in ("eyJ", "abc.def-123", "AIzaXYZ", JWT[-12:]):
        assert secret not in result.body_excerpt
        assert secret not in result.model_dump_json()
    assert '"user": "sa"' in result.body_excerpt


def test_body_is_read_up_to_the_limit_and_excerpt_is_short_and_collapsed() -> None:
    long = probe({"/health": {"body": "word  \n\t " * 5000}})
    assert long.body_excerpt is not None and len(long.body_excerpt) <= 200
    assert "  " not in long.body_excerpt and "\n" not in long.body_excerpt
    capped = probe({"/health": {"body": "0123456789" * 100}}, max_body_bytes=15)
    assert (capped.outcome, capped.body_excerpt) == ("ok", "012345678901234")


def test_same_origin_redirect_is_followed_and_another_origin_is_not() -> None:
    followed, elsewhere, looping = probe_paths(
        {
            "/old": {"status": 301, "headers": {"Location": "/health"}},
            "/health": {"status": 200, "body": "fine"},
            "/login": {
                "status": 302,
                "headers": {"Location": "https://accounts.example.com/signin?state=s3cret"},
            },
            "/loop": {"status": 302, "headers": {"Location": "/loop"}},
        },
        ["/old", "/login", "/loop"],
        max_redirects=2,
    )
    assert (followed.outcome, followed.status, followed.body_excerpt) == ("ok", 200, "fine")
    assert (elsewhere.outcome, elsewhere.status) == ("assertion_failed", 302)
    assert "redirect to another origin not followed: https://accounts.example.com/signin" in elsewhere.detail
    assert "s3cret" not in elsewhere.detail
    assert (looping.outcome, looping.status) == ("assertion_failed", 302)
    assert "more than 2 redirects" in looping.detail


def test_results_keep_target_order_and_concurrency_is_bounded() -> None:
    paths = {f"/d{delay}": {"delayMs": delay} for delay in (300, 0, 200)}
    order = [f"/d{delay}" for delay in (300, 0, 200)]
    started = time.perf_counter()
    parallel = probe_paths(paths, order, concurrency=3)
    parallel_s = time.perf_counter() - started
    started = time.perf_counter()
    serial = probe_paths(paths, order, concurrency=1)
    serial_s = time.perf_counter() - started
    assert [r.path for r in parallel] == order == [r.path for r in serial]
    assert all(r.outcome == "ok" for r in parallel + serial)
    assert serial_s >= 0.5
    assert parallel_s < serial_s


def test_invalid_target_url_is_rejected_before_probing() -> None:
    with pytest.raises(ValueError, match="not an absolute http"):
        runtime.run(probe_all([ProbeTarget(service="x", url="ftp://example.com/health")]))
    assert runtime.run(probe_all([])) == []


def test_redact_and_excerpt_directly() -> None:
    assert redact("Authorization: Basic dXNlcjpwYXNz\nok") == "Authorization: [redacted]\nok"
    assert redact("sent Bearer ya29.a0AfH6SMB then") == "sent Bearer [redacted] then"
    assert redact(f"id={JWT}.") == "id=[redacted-jwt]."
    assert redact('{"password": "hunter2"}') == '{"password": "[redacted]"}'
    assert excerpt(b"") is None
    assert excerpt(b"<p>a &amp; b</p>", "text/html") == "a & b"


def test_a_stall_in_the_tls_handshake_is_named_in_the_timeout() -> None:
    async def main() -> list[ProbeResult]:
        held: list[asyncio.StreamWriter] = []

        async def accept_and_say_nothing(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            held.append(writer)

        server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await probe_all(
                [
                    ProbeTarget(service="mute", url=f"https://127.0.0.1:{port}/health"),
                    ProbeTarget(service="mute", url=f"http://127.0.0.1:{port}/health"),
                ],
                timeout_s=0.5,
            )
        finally:
            for writer in held:
                writer.close()
            server.close()

    tls, plain = runtime.run(main())
    assert (tls.outcome, tls.detail) == ("timeout", "timed out after 0.5 s (in the TLS handshake)")
    assert tls.phases.connect is not None and tls.phases.tls is not None
    assert (plain.outcome, plain.detail) == ("timeout", "timed out after 0.5 s (no response headers)")


def test_https_to_a_plain_http_port_is_a_tls_error() -> None:
    async def main() -> ProbeResult:
        endpoints = await ServiceEndpoints.start(["svc"], {})
        try:
            url = endpoints.urls["svc"].replace("http://", "https://") + "/health"
            [result] = await probe_all([ProbeTarget(service="svc", url=url)], timeout_s=5)
            return result
        finally:
            await endpoints.close()

    result = runtime.run(main())
    assert (result.outcome, result.status) == ("tls_error", None)
    assert result.detail.startswith("TLS: ")
