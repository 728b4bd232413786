"""The pipeline: (probe || collect) -> evidence -> diagnose -> plan -> report."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from infradiag.collect.calls import ApiUnavailable
from infradiag.collect.collector import Collector
from infradiag.diagnose.engine import Diagnosis, diagnose
from infradiag.diagnose.playbook import Playbook
from infradiag.evidence import Evidence, ProbeTarget, ServiceEvidence, Unknown
from infradiag.plan import make_plan, verdict
from infradiag.probe import probe_all
from infradiag.report.build import build_report
from infradiag.report.model import TriageReport
from infradiag.target import Target


def probe_targets(services: list[ServiceEvidence], target: Target) -> list[ProbeTarget]:
    """Health URLs to probe: the service's own probe paths if it declares any, else the default."""
    targets: list[ProbeTarget] = []
    for service in services:
        if not service.uri:
            continue
        for path in service.health_paths or [target.health_path]:
            targets.append(ProbeTarget(service=service.name, url=service.uri.rstrip("/") + path, path=path))
    return targets


async def gather_evidence(target: Target, now: datetime) -> Evidence:
    """Probes and API evidence, concurrently; probes start as soon as the services are listed."""
    collector = Collector(target, now)
    try:
        environment = asyncio.create_task(collector.environment())
        unknowns: list[Unknown] = []
        try:
            services = await collector.services()
        except ApiUnavailable as failure:
            services = []
            unknowns.append(failure.unknown)
        probes = await probe_all(
            probe_targets(services, target),
            timeout_s=target.probe_timeout_s,
            concurrency=target.probe_concurrency,
        )
        env = await environment
    finally:
        collector.close()
    return Evidence(
        project=target.project,
        region=target.region,
        now=now,
        services=services,
        connectors=env.connectors,
        probes=probes,
        unknowns=unknowns + env.unknowns,
    )


async def triage(target: Target, playbooks: list[Playbook]) -> tuple[TriageReport, Diagnosis]:
    """One full triage of `target`."""
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    evidence = await gather_evidence(target, target.now or started_at)
    diagnosis = diagnose(evidence, playbooks, target.thresholds.model_dump())
    plan = make_plan(diagnosis.findings)
    collected_anything = bool(evidence.services or evidence.connectors or not evidence.unknowns)
    report = build_report(
        environment=target.environment,
        evidence=evidence,
        findings=diagnosis.findings,
        plan=plan,
        verdict=verdict(evidence.probes, diagnosis.findings, collected_anything),
        started_at=started_at,
        duration_ms=int((time.perf_counter() - clock) * 1000),
    )
    return report, diagnosis
