"""The pipeline: (probe || collect) -> evidence -> diagnose -> plan -> report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from infradiag.background import Background
from infradiag.collect import environment_process
from infradiag.collect.clients import SERVICES_CLIENTS, import_libraries
from infradiag.collect.collector import Collector
from infradiag.evidence import Evidence
from infradiag.evidence.reachability import with_derived  # loaded by the collector already
from infradiag.identity import AUTH_TIMEOUT_S, AuthFailed, Resolved
from infradiag.probe import probe_services
from infradiag.probe.process import prestart
from infradiag.target import Target

if TYPE_CHECKING:  # loaded by diagnosis_modules(), while the triage waits for its first answers
    from infradiag.diagnose.engine import Diagnosis
    from infradiag.diagnose.playbook import Playbook
    from infradiag.report.model import TriageReport

# The commands import this module just before they start their deadline: the Cloud Run client's load time
# must not be taken from the API reads' share of it. Every other library loads in the environment process,
# and the probe process boots, on the other core meanwhile (both started first thing by `infradiag triage`).
prestart()
environment_process.prestart()
import_libraries(SERVICES_CLIENTS)


def diagnosis_modules() -> None:
    """Load what turns evidence into a report (a few hundred ms of CPU on a cold start): on a thread while
    the services are listed and probed (Background), so that the critical path never waits for it."""
    import infradiag.diagnose.engine
    import infradiag.plan
    import infradiag.report.build  # noqa: F401


async def gather_evidence(
    target: Target,
    now: datetime,
    deadline: float | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Evidence:
    """Probes and API evidence, concurrently; probes start as soon as the services are listed, and the
    invoker policies of services that answered 401/403 are read once the probes are back. With a `deadline`
    (a time.monotonic() instant) everything ends by it: probes still running are cut (timeouts), API reads
    without an answer become unknowns that say they timed out. `meanwhile` is called once the listing is
    under way (to start work that can use the wait)."""
    try:
        auth = await authenticate(target, deadline)
    except AuthFailed as failed:
        # Without credentials every read would fail the same way: one unknown with the fix, none started.
        return with_derived(
            Evidence(project=target.project, region=target.region, now=now, unknowns=[failed.unknown])
        )
    collector = Collector(target, now, deadline, auth=auth)
    environment = asyncio.create_task(environment_process.environment_elsewhere(collector))
    try:
        listing = asyncio.ensure_future(collector.services())
        if meanwhile is not None:
            await asyncio.sleep(0)  # the listing's read is on its thread before anything else starts
            meanwhile()
        services = await listing
        probes = await probe_services(services, target, deadline)
        invokers = await collector.invokers(services, probes)
        env = await environment
    finally:
        environment.cancel()
        collector.close()
    evidence = collector.evidence(services, probes, invokers, env)
    return with_derived(evidence.model_copy(update={"identity": auth.identity}))


async def authenticate(target: Target, deadline: float | None) -> Resolved:
    """The target's credentials with a fresh token, within AUTH_TIMEOUT_S and the deadline (AuthFailed
    otherwise); fetched on a thread so that the event loop stays free."""
    left = AUTH_TIMEOUT_S if deadline is None else min(AUTH_TIMEOUT_S, deadline - time.monotonic())
    return await asyncio.to_thread(target.auth.resolve, left)


async def triage(
    target: Target,
    playbooks: list[Playbook] | Background[list[Playbook]],
    deadline: float | None = None,
) -> tuple[TriageReport, Diagnosis]:
    """One full triage of `target`; with a `deadline` (a time.monotonic() instant), probes and API reads end
    by it and the report holds what arrived, the rest as timed-out probes and unknowns. `playbooks` may
    still be loading (Background): it is started, with the diagnosis' own modules, once the services'
    listing is under way, and its error (a bad playbook) is raised here."""
    started_at = datetime.now(UTC)
    clock = time.perf_counter()

    def prepared() -> list[Playbook]:
        diagnosis_modules()
        return playbooks.result() if isinstance(playbooks, Background) else playbooks

    preparing = Background(prepared, "diagnosis")
    evidence = await gather_evidence(target, target.now or started_at, deadline, meanwhile=preparing.start)
    books = await preparing.wait()
    from infradiag.diagnose.engine import diagnose
    from infradiag.plan import make_plan, verdict
    from infradiag.report.build import build_report

    diagnosis = diagnose(
        evidence, books, target.thresholds.model_dump(), alerting=target.alerting.model_dump()
    )
    if diagnosis.failed:  # a playbook that could not be walked leaves its causes unchecked
        evidence = evidence.model_copy(update={"unknowns": [*evidence.unknowns, *diagnosis.unknowns()]})
    plan = make_plan(diagnosis.findings)
    probed = {p.service for p in evidence.probes}
    # A service without a URL was looked at (the API describes it) though not probed: it counts as failing.
    without_url = [s.name for s in evidence.services if not s.uri and s.name not in probed]
    covered = probed | set(without_url)
    examined = bool(covered) and all(name in covered for name in target.services or [])
    report = build_report(
        environment=target.environment,
        evidence=evidence,
        findings=diagnosis.findings,
        plan=plan,
        verdict=verdict(evidence.probes, diagnosis.findings, examined, bool(evidence.unknowns), without_url),
        started_at=started_at,
        duration_ms=int((time.perf_counter() - clock) * 1000),
        services_without_url=without_url,
        thresholds=target.thresholds.model_dump(),
    )
    return report, diagnosis
