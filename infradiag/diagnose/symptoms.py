"""Symptoms that a more urgent root cause already explains are cited under it, not listed as causes.

A playbook node marked `symptom: true` concludes from what a failure looks like (slow answers, timeouts),
which other causes produce too: a database outage makes every service slow, whatever its scaling. Listed
on its own, such a finding pads the plan with a second action for one fault and sends on-call after the
wrong fix. So when findings of a higher priority that are not symptoms cover every service a symptom
finding affects, the symptom is removed from the findings and cited in the last why of each of them.
"""

from __future__ import annotations

from infradiag.diagnose.findings import PRIORITY_ORDER, Citation, Finding


def _explainers(symptom: Finding, findings: list[Finding]) -> list[Finding]:
    """The root-cause findings more urgent than `symptom` that share a service with it."""
    rank = PRIORITY_ORDER[symptom.priority]
    affected = set(symptom.affected_services)
    return [
        f
        for f in findings
        if not f.symptom and PRIORITY_ORDER[f.priority] < rank and affected & set(f.affected_services)
    ]


def _covers(explainers: list[Finding], symptom: Finding) -> bool:
    covered = {s for f in explainers for s in f.affected_services}
    return bool(symptom.affected_services) and set(symptom.affected_services) <= covered


def _cite(finding: Finding, symptoms: list[Finding]) -> Finding:
    citations = [
        Citation(
            source="diagnosis",
            detail=f"also explains {s.title} ({s.cause}, {s.priority} on its own): not listed as a cause",
        )
        for s in symptoms
    ]
    last = finding.why[-1]
    why = [*finding.why[:-1], last.model_copy(update={"evidence": [*last.evidence, *citations]})]
    return finding.model_copy(update={"why": why})


def fold_explained(findings: list[Finding]) -> list[Finding]:
    """`findings` without the symptom findings whose every affected service a more urgent root-cause
    finding covers; each of those is cited under every root cause that shares a service with it. A symptom
    with no affected service, or one a root cause covers only in part, stays listed: nothing explains all
    of it."""
    folded: dict[int, list[Finding]] = {}
    kept: list[Finding] = []
    for finding in findings:
        explainers = _explainers(finding, findings) if finding.symptom else []
        if explainers and _covers(explainers, finding):
            for explainer in explainers:
                folded.setdefault(id(explainer), []).append(finding)
            continue
        kept.append(finding)
    return [_cite(f, folded[id(f)]) if id(f) in folded and f.why else f for f in kept]
