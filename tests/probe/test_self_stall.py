"""A probe's timings are the service's alone: work of the triage's own process, however long it holds the
interpreter while the probes are in flight, never shows up as a service's latency (issue 16).

The probes run in the probe process (infradiag/probe/worker.py). Here a fleet of 200 services is served by a
twin in a process of its own (a twin in this process would stall with it), listed by the Cloud Run client
as a triage lists them, and probed by probe_services while this process blocks its event loop for
STALL_S, as importing the Google libraries, parsing API answers or compiling playbooks did: each probe's
latency over its endpoint's delay must stay within far less than that stall of what it is while this
process does nothing (the twin and a loaded machine add their own), and its phases must add up to its
total exactly. The stall is large on purpose, so that the test holds on a loaded machine too; the quiet
machine's figure (self-stall p99 at most 25 ms at 200 services) is bench/cold_start.py's to report, and
test_phase_timing.py holds each probe to its endpoint's own account of its time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import yaml

from infradiag import runtime
from infradiag.collect.collector import Collector
from infradiag.evidence.model import ProbeResult
from infradiag.probe import probe_services
from infradiag.target import ApiEndpoints, Target
from tests.cli_process import served_twin
from tests.probe.servers import fleet_scenario

FLEET = 200
STALL_S = 0.6
# Far below the stall, far above what a probe's own work on a loaded machine adds.
MARGIN_MS = STALL_S * 1000 / 2


@pytest.fixture(scope="module", params=[0, 300], ids=["endpoints-0ms", "endpoints-300ms"])
def fleet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Target, int]]:
    """A twin of FLEET healthy services whose endpoints answer after `param` ms, served by `infradiag twin
    serve` in its own process; the Target that reads it."""
    delay: int = request.param
    names = [f"svc-{index:03d}" for index in range(FLEET)]
    scenario = fleet_scenario({name: {"*": {"delayMs": delay}} for name in names})
    path = tmp_path_factory.mktemp("fleet") / "fleet.yaml"
    path.write_text(yaml.safe_dump(scenario))
    with served_twin(path, stderr=None) as twin:
        rest, grpc = twin.addresses["rest"]["run"], twin.addresses["grpc"]["monitoring"]
        endpoints = ApiEndpoints(rest=rest, grpc=grpc)
        yield Target("fleet", scenario["project"], scenario["region"], endpoints=endpoints), delay


def probe_while_stalling(target: Target, stall_after_s: float | None) -> list[ProbeResult]:
    """The fleet listed, then probed, while this process's event loop is blocked for STALL_S from
    `stall_after_s` after the probes were asked for (None: not blocked)."""

    def own_work() -> None:
        until = time.perf_counter() + STALL_S
        while time.perf_counter() < until:  # CPU-bound, on the loop, as parsing or compiling is
            pass

    async def main() -> list[ProbeResult]:
        collector = Collector(target, datetime.now(UTC))
        try:
            services = await collector.services()
        finally:
            collector.close()
        assert len(services) == FLEET
        if stall_after_s is not None:
            asyncio.get_running_loop().call_later(stall_after_s, own_work)
        return await probe_services(services, target, time.monotonic() + 30)

    return runtime.run(main())


def test_the_triages_own_work_never_shows_as_a_services_latency(fleet: tuple[Target, int]) -> None:
    target, delay = fleet
    probe_while_stalling(target, None)  # the probe process started and warm, as for a triage's probes
    # What the twin and the machine alone add (a twin serving 200 requests at once on a loaded machine
    # takes its time): the same fleet probed while this process does nothing.
    quiet = max(r.latency_ms - delay for r in probe_while_stalling(target, None))
    # Within the probes' flight: from the first connections (0 ms endpoints) or mid-wait (300 ms ones).
    results = probe_while_stalling(target, 0.005 if delay == 0 else 0.1)
    assert len(results) == FLEET and all(r.ok for r in results), [r.detail for r in results if not r.ok][:3]
    excess = sorted(r.latency_ms - delay for r in results)
    median, worst = excess[len(excess) // 2], excess[-1]
    assert worst < quiet + MARGIN_MS, (
        f"over {delay} ms: {median:.0f} ms median, {worst:.0f} max ({quiet:.0f})"
    )
    for result in results:
        phases = result.phases
        accounted = sum(p or 0.0 for p in (phases.dns, phases.connect, phases.tls, phases.first_byte))
        # The body comes with the headers: the phases are the whole total, to each one's rounding.
        assert result.latency_ms == pytest.approx(accounted, abs=0.005), (result.service, phases)
