"""Bounds and attempts: the overall deadline cuts hung probes (reported, not lost), no blind retries, and an
optional confirm attempt that tells a flap from an outage."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from infradiag import runtime
from infradiag.evidence.model import ProbeResult, ProbeTarget
from infradiag.probe import probe_all
from tests.probe.servers import own_server, twin_endpoints


def probe_twin_paths(
    paths: dict[str, dict[str, Any]], probed: list[str], **options: Any
) -> tuple[list[ProbeResult], float]:
    """Probe `probed` paths of a twin service; also returns the wall time of probe_all."""

    async def main() -> tuple[list[ProbeResult], float]:
        async with twin_endpoints(paths) as endpoints:
            targets = [ProbeTarget(service="svc", url=endpoints.urls["svc"] + p, path=p) for p in probed]
            started = time.monotonic()
            results = await probe_all(targets, **options)
            return results, time.monotonic() - started

    return runtime.run(main())


def test_a_hung_endpoint_is_cut_at_the_deadline_and_reported_as_a_timeout() -> None:
    (hung, fine), wall = probe_twin_paths(
        {"/hang": {"fault": "hang"}, "/health": {}},
        ["/hang", "/health"],
        timeout_s=30,
        deadline=time.monotonic() + 0.8,
    )
    assert wall < 2.0
    assert (hung.outcome, hung.ok, hung.status) == ("timeout", False, None)
    assert hung.detail.startswith("cut at the overall deadline after 0.")
    assert hung.detail.endswith("s (no response headers)")
    assert hung.latency_ms < 1500
    assert hung.phases.connect is not None  # the connection was made; the answer never came
    assert fine.outcome == "ok"


def test_the_timeout_still_applies_when_the_deadline_is_further() -> None:
    [hung], _ = probe_twin_paths(
        {"/hang": {"fault": "hang"}}, ["/hang"], timeout_s=0.3, deadline=time.monotonic() + 30
    )
    assert hung.detail == "timed out after 0.3 s (no response headers)"


def test_probes_that_cannot_start_before_the_deadline_are_reported_not_dropped() -> None:
    results, wall = probe_twin_paths(
        {"*": {"fault": "hang"}},
        ["/a", "/b", "/c"],
        concurrency=1,
        timeout_s=30,
        deadline=time.monotonic() + 0.5,
    )
    assert wall < 1.5
    assert [r.path for r in results] == ["/a", "/b", "/c"]
    assert results[0].detail.startswith("cut at the overall deadline")
    assert all(r.outcome == "timeout" for r in results)
    not_started = [r for r in results if r.detail.startswith("not probed")]
    assert not_started and all(r.latency_ms == 0 for r in not_started)


class Counting:
    """A handler answering with `statuses` in turn (the last one repeated), counting requests."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests = 0

    async def __call__(self, _: web.BaseRequest) -> web.Response:
        self.requests += 1
        status = self.statuses[min(self.requests, len(self.statuses)) - 1]
        return web.Response(status=status, text="fine" if status == 200 else "Service Unavailable")


def probe_counting(handler: Counting, **options: Any) -> ProbeResult:
    async def main() -> ProbeResult:
        async with own_server(handler) as base:
            [result] = await probe_all([ProbeTarget(service="svc", url=base + "/health")], **options)
            return result

    return runtime.run(main())


def test_a_failure_is_not_retried_blindly() -> None:
    handler = Counting(503, 200)
    result = probe_counting(handler)
    assert (result.outcome, handler.requests) == ("http_5xx", 1)
    assert (result.confirmation, result.flapping) == (None, None)


def test_confirm_tells_a_flap_from_an_outage() -> None:
    flap_server, outage_server, ok_server = Counting(503, 200), Counting(503), Counting(200)
    flap = probe_counting(flap_server, confirm=True, confirm_pause_s=0.05)
    outage = probe_counting(outage_server, confirm=True, confirm_pause_s=0.05)
    ok = probe_counting(ok_server, confirm=True, confirm_pause_s=0.05)

    assert (flap.outcome, flap.ok, flap.flapping) == ("http_5xx", False, True)
    assert flap.confirmation is not None and (flap.confirmation.outcome, flap.confirmation.status) == (
        "ok",
        200,
    )
    assert flap.detail.endswith("(a flap)") and "again 0.05 s later: ok 200 after" in flap.detail
    assert (outage.flapping, outage.confirmation and outage.confirmation.status) == (False, 503)
    assert outage.detail.endswith("(the failure holds)")
    assert (ok.confirmation, ok.flapping) == (None, None)
    assert (flap_server.requests, outage_server.requests, ok_server.requests) == (2, 2, 1)


def test_no_confirm_attempt_when_the_deadline_is_near() -> None:
    handler = Counting(503, 200)
    result = probe_counting(handler, confirm=True, confirm_pause_s=1.0, deadline=time.monotonic() + 0.8)
    assert (handler.requests, result.confirmation) == (1, None)
    assert result.detail.endswith("; not confirmed: the deadline is near")
