"""Checks beyond the status, against twin endpoints: body (CEL), headers, latency; each failure names the
actual value."""

from __future__ import annotations

import pytest

from infradiag import runtime
from infradiag.evidence.model import ProbeTarget
from infradiag.probe import probe_all
from tests.probe.servers import probe_twin

DOWN = {"/health": {"json": {"database": "down", "cache": "ok"}, "headers": {"X-Rev": "7"}}}


def test_a_body_check_that_fails_reports_the_fields_it_read() -> None:
    [result] = probe_twin(DOWN, {"path": "/health", "body_check": 'body.database == "ok"'})
    assert (result.outcome, result.ok, result.status) == ("assertion_failed", False, 200)
    assert result.failed_checks == ['body check `body.database == "ok"` failed: database = "down"']
    assert result.detail.endswith('(body check `body.database == "ok"` failed: database = "down")')
    assert result.body_json == {"database": "down", "cache": "ok"}


def test_a_body_check_that_passes_is_ok_and_can_read_headers_and_status() -> None:
    check = 'body.cache == "ok" && headers["x-rev"] == "7" && status == 200'
    [result] = probe_twin(DOWN, {"path": "/health", "body_check": check})
    assert (result.outcome, result.ok, result.failed_checks) == ("ok", True, [])


def test_a_body_check_on_a_missing_field_or_a_body_that_is_not_json() -> None:
    missing, text = probe_twin(
        {"/health": {"json": {"status": "ok"}}, "/text": {"body": "all good"}},
        {"path": "/health", "body_check": 'body.database == "ok"'},
        {"path": "/text", "body_check": 'body.database == "ok"'},
    )
    assert missing.outcome == "assertion_failed"
    assert missing.failed_checks == ["body check `body.database == \"ok\"` failed: no such key: 'database'"]
    assert text.outcome == "assertion_failed"
    assert text.failed_checks[0].endswith("(the body is not JSON)")


def test_header_checks_match_the_whole_value_and_name_a_missing_header() -> None:
    good, wrong, missing = probe_twin(
        DOWN,
        {"path": "/health", "expect_headers": {"Content-Type": "application/json.*", "x-rev": "7"}},
        {"path": "/health", "expect_headers": {"content-type": "text/html"}},
        {"path": "/health", "expect_headers": {"X-Served-By": "backend-.*"}},
    )
    assert (good.outcome, good.failed_checks) == ("ok", [])
    assert wrong.failed_checks == ['header content-type is "application/json", expected /text/html/']
    assert missing.failed_checks == ["header x-served-by missing, expected /backend-.*/"]
    assert (wrong.outcome, missing.outcome) == ("assertion_failed", "assertion_failed")


def test_a_latency_budget_overrun_is_an_assertion_failure_with_both_figures() -> None:
    slow, fast = probe_twin(
        {"/slow": {"delayMs": 200}, "/fast": {}},
        {"path": "/slow", "latency_budget_ms": 50},
        {"path": "/fast", "latency_budget_ms": 5000},
    )
    assert (slow.outcome, slow.status) == ("assertion_failed", 200)
    [check] = slow.failed_checks
    assert check.startswith("latency ") and check.endswith(" ms, budget 50 ms")
    assert (fast.outcome, fast.failed_checks) == ("ok", [])


def test_an_unexpected_status_is_the_only_failure_reported() -> None:
    [result] = probe_twin(
        {"/health": {"status": 503, "json": {"database": "down"}}},
        {"path": "/health", "body_check": 'body.database == "ok"', "latency_budget_ms": 0.001},
    )
    assert (result.outcome, result.failed_checks) == ("http_5xx", ["status 503, expected 200"])
    # The body of an error answer is still evidence.
    assert result.body_json == {"database": "down"}


def test_every_failed_check_is_listed() -> None:
    [result] = probe_twin(
        DOWN,
        {
            "path": "/health",
            "body_check": 'body.database == "ok" && body.cache == "ok"',
            "expect_headers": {"x-rev": "8"},
            "latency_budget_ms": 0.001,
        },
    )
    assert len(result.failed_checks) == 3
    assert result.failed_checks[1] == (
        'body check `body.database == "ok" && body.cache == "ok"` failed: database = "down", cache = "ok"'
    )


def test_invalid_checks_are_rejected_before_anything_is_sent() -> None:
    bad_cel = ProbeTarget(service="svc", url="http://127.0.0.1:9/health", body_check="body.database ==")
    with pytest.raises(ValueError, match="probe target svc /health: invalid CEL"):
        runtime.run(probe_all([bad_cel]))
    bad_pattern = ProbeTarget(service="svc", url="http://127.0.0.1:9/health", expect_headers={"x": "("})
    with pytest.raises(ValueError, match="bad header pattern"):
        runtime.run(probe_all([bad_pattern]))


def test_body_json_redacts_credential_fields() -> None:
    [result] = probe_twin(
        {"/health": {"json": {"status": "ok", "password": "hunter2", "nested": {"api_key": "AIzaXYZ"}}}},
        {"path": "/health"},
    )
    assert result.body_json == {"status": "ok", "password": "[redacted]", "nested": {"api_key": "[redacted]"}}
