"""What changed since the last sweep: new, resolved, escalated, de-escalated findings; flapping services."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from infradiag.history.records import FindingRecord, SweepRecord
from infradiag.priority import PRIORITY_ORDER, URGENT


@dataclass(frozen=True)
class PriorityChange:
    finding: FindingRecord  # as it stands now
    before: str  # its priority in the previous sweep


@dataclass(frozen=True)
class SweepChange:
    """The change from `previous_verdict`'s sweep to this one. Findings are matched by id (cause and
    resource). A sweep without a verdict changes nothing: its missing findings are not "resolved"."""

    first: bool  # no earlier sweep of the environment reached a verdict
    previous_verdict: str | None
    new: list[FindingRecord] = field(default_factory=list)
    resolved: list[FindingRecord] = field(default_factory=list)
    escalated: list[PriorityChange] = field(default_factory=list)
    deescalated: list[PriorityChange] = field(default_factory=list)
    flapping: dict[str, int] = field(default_factory=dict)  # service -> ok/failing changes in the window

    @property
    def newly_urgent(self) -> list[FindingRecord]:
        """Findings that are P0/P1 now and were not before: new ones, and ones escalated from P2/P3."""
        raised = [c.finding for c in self.escalated if c.before not in URGENT]
        return [f for f in self.new + raised if f.urgent]

    @property
    def changed(self) -> bool:
        return bool(self.new or self.resolved or self.escalated or self.deescalated or self.flapping)


def compare(
    current: SweepRecord, previous: SweepRecord | None, recent: list[SweepRecord], flap_changes: int = 3
) -> SweepChange:
    """The change from `previous` (the last sweep with a verdict) to `current`; `recent` (oldest first,
    ending with `current`) is the window in which a service that changed state `flap_changes` times flaps."""
    flapping = flapping_services(recent, flap_changes)
    previous_verdict = previous.verdict if previous else None
    if not current.judged:
        return SweepChange(first=previous is None, previous_verdict=previous_verdict, flapping=flapping)
    before = {f.id: f for f in previous.findings} if previous else {}
    now = {f.id: f for f in current.findings}
    escalated: list[PriorityChange] = []
    deescalated: list[PriorityChange] = []
    for finding_id in now.keys() & before.keys():
        was, is_ = before[finding_id].priority, now[finding_id].priority
        if PRIORITY_ORDER[is_] < PRIORITY_ORDER[was]:
            escalated.append(PriorityChange(now[finding_id], was))
        elif PRIORITY_ORDER[is_] > PRIORITY_ORDER[was]:
            deescalated.append(PriorityChange(now[finding_id], was))
    return SweepChange(
        first=previous is None,
        previous_verdict=previous_verdict,
        new=_ranked([f for i, f in now.items() if i not in before]),
        resolved=_ranked([f for i, f in before.items() if i not in now]),
        escalated=sorted(escalated, key=lambda c: _rank(c.finding)),
        deescalated=sorted(deescalated, key=lambda c: _rank(c.finding)),
        flapping=flapping,
    )


def flapping_services(recent: list[SweepRecord], flap_changes: int) -> dict[str, int]:
    """Services whose probe state (ok or failing) changed at least `flap_changes` times across `recent`,
    counting only sweeps that probed the service."""
    states: dict[str, list[bool]] = {}
    for sweep in recent:
        for service, ok in sweep.services.items():
            states.setdefault(service, []).append(ok)
    changes = {s: sum(a != b for a, b in pairwise(v)) for s, v in states.items()}
    return {s: n for s, n in sorted(changes.items()) if n >= flap_changes}


def _rank(finding: FindingRecord) -> tuple[int, str]:
    return PRIORITY_ORDER[finding.priority], finding.id


def _ranked(findings: list[FindingRecord]) -> list[FindingRecord]:
    return sorted(findings, key=_rank)
