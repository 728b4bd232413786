"""Ranking per docs/report-format.md: priority, then restoring before hardening (phases.py), then blast
radius, then confidence; one step per action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from infradiag.diagnose.findings import PRIORITY_ORDER, Finding
from infradiag.evidence import ProbeResult
from infradiag.fixes import Risk
from infradiag.plan.phases import phase_of


@dataclass
class PlanStep:
    rank: int
    priority: str
    action: str
    findings: list[str]
    blast_radius: int
    commands: list[str] = field(default_factory=list)
    terraform: list[str] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)  # every risk of its fixes, in the order first met
    way_back: list[str] = field(default_factory=list)


def _order(finding: Finding) -> tuple[int, int, int, float]:
    return (
        PRIORITY_ORDER[finding.priority],
        phase_of(finding),
        -len(finding.affected_services),
        -finding.confidence,
    )


def ranked(findings: list[Finding]) -> list[Finding]:
    """Findings most urgent first: by priority; within one, what stops the bleeding before what hardens;
    then the most affected services, then the highest confidence."""
    return sorted(findings, key=_order)


def make_plan(findings: list[Finding]) -> list[PlanStep]:
    """One step per distinct action, in finding order; a step resolving several findings names them all, and
    its blast radius is the number of distinct services those findings affect."""
    steps: dict[str, PlanStep] = {}
    services: dict[str, list[str]] = {}  # action -> every service its findings affect, once each
    for finding in ranked(findings):
        fix = finding.remediation
        affected = services.setdefault(fix.summary, [])
        affected += [s for s in finding.affected_services if s not in affected]
        step = steps.get(fix.summary)
        if step is None:
            steps[fix.summary] = PlanStep(
                rank=len(steps) + 1,
                priority=finding.priority,
                action=fix.summary,
                findings=[finding.id],
                blast_radius=len(affected),
                commands=list(fix.commands),
                terraform=[fix.terraform] if fix.terraform else [],
                risks=list(dict.fromkeys(fix.risks)),
                way_back=[fix.way_back] if fix.way_back else [],
            )
            continue
        step.findings.append(finding.id)
        step.blast_radius = len(affected)
        step.commands += [c for c in fix.commands if c not in step.commands]
        if fix.terraform and fix.terraform not in step.terraform:
            step.terraform.append(fix.terraform)
        step.risks += [r for r in fix.risks if r not in step.risks]
        if fix.way_back and fix.way_back not in step.way_back:
            step.way_back.append(fix.way_back)
    return list(steps.values())


def verdict(
    probes: list[ProbeResult],
    findings: list[Finding],
    examined: bool,
    evidence_missing: bool = False,
    without_url: Sequence[str] = (),
) -> str:
    """healthy | degraded | down | unknown, as docs/report-format.md defines them. `examined` says whether
    every service the triage was asked about was found and probed: without that a triage never passes
    (unknown), though failing probes still make it down. Never healthy while evidence is missing (a cause
    could hide there), degraded instead. A service in `without_url` counts as failing: it exists but Cloud Run
    serves it nowhere, so it is never healthy, and a fleet of only such services is down."""
    by_service: dict[str, bool] = {}
    for probe in probes:
        by_service[probe.service] = by_service.get(probe.service, True) and probe.ok
    # Failing rather than unexamined: Cloud Run sets a service's uri only once it serves
    # (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services#Service, `uri` is
    # output only), so the API itself tells that nothing answers there; there is nothing left to find out.
    for service in without_url:
        by_service[service] = False
    if by_service and not any(by_service.values()):
        return "down"
    if not examined:
        return "unknown"
    urgent = any(PRIORITY_ORDER[f.priority] <= PRIORITY_ORDER["P1"] for f in findings)
    if not all(by_service.values()) or urgent or evidence_missing:
        return "degraded"
    return "healthy"
