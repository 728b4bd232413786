"""The pipeline: (probe || collect) -> evidence -> diagnose -> plan -> report."""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time
from datetime import UTC, datetime

from infradiag.collect.collector import Collector
from infradiag.diagnose.engine import Diagnosis, diagnose
from infradiag.diagnose.playbook import Playbook
from infradiag.evidence import Evidence
from infradiag.evidence.reachability import with_derived
from infradiag.plan import make_plan, verdict
from infradiag.probe import probe_services
from infradiag.report.build import build_report
from infradiag.report.model import TriageReport
from infradiag.target import Target


async def gather_evidence(target: Target, now: datetime, deadline: float | None = None) -> Evidence:
    """Probes and API evidence, concurrently; probes start as soon as the services are listed, and the
    invoker policies of services that answered 401/403 are read once the probes are back."""
    collector = Collector(target, now)
    environment = asyncio.create_task(collector.environment())
    try:
        services = await collector.services()
        probes = await probe_services(services, target, deadline)
        invokers = await collector.invokers(services, probes)
        env = await environment
    finally:
        environment.cancel()
        collector.close()
    return with_derived(collector.evidence(services, probes, invokers, env))


def collect_cycles_only_when_idle() -> None:
    """From now on this process collects reference cycles only when told to (gc.collect()), never in the
    middle of a triage.

    A triage allocates hundreds of thousands of short-lived objects (API messages, probe results, evidence)
    next to the long-lived ones of the Google libraries, so automatic collection keeps walking the latter: at
    200 services it was a third of the CPU time of a triage, and a collection landing between two probes
    delays every probe after it (bench/triage_scale.py). Reference counting still frees almost everything at
    once. A command that triages once ends before cycles matter; one that triages again and again (sweep
    --every, gate --wait) calls collect_cycles_now() while it waits."""
    gc.disable()


def collect_cycles_now() -> None:
    """One full collection of reference cycles; a Ctrl-C meanwhile is handed to the SIGINT handler after it
    (by default: KeyboardInterrupt).

    A collection runs finalizers and weakref callbacks, and an exception raised inside one of those is
    printed and ignored: a KeyboardInterrupt landing there was lost, and `sweep --every` swept on."""
    if threading.current_thread() is not threading.main_thread():
        gc.collect()
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        gc.collect()
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and callable(previous):
        previous(signal.SIGINT, None)
    elif received and previous != signal.SIG_IGN:
        raise KeyboardInterrupt


async def triage(
    target: Target, playbooks: list[Playbook], deadline: float | None = None
) -> tuple[TriageReport, Diagnosis]:
    """One full triage of `target`; probes end by `deadline` (a time.monotonic() instant) if one is given."""
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    evidence = await gather_evidence(target, target.now or started_at, deadline)
    diagnosis = diagnose(evidence, playbooks, target.thresholds.model_dump())
    plan = make_plan(diagnosis.findings)
    collected_anything = bool(evidence.services or evidence.connectors or not evidence.unknowns)
    report = build_report(
        environment=target.environment,
        evidence=evidence,
        findings=diagnosis.findings,
        plan=plan,
        verdict=verdict(evidence.probes, diagnosis.findings, collected_anything, bool(evidence.unknowns)),
        started_at=started_at,
        duration_ms=int((time.perf_counter() - clock) * 1000),
    )
    return report, diagnosis
