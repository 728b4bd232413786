"""What changed between two sweeps: findings matched by id, priorities compared, flapping services."""

from __future__ import annotations

from infradiag.history import FindingRecord, SweepRecord
from infradiag.sweep.diff import compare, flapping_services


def finding(cause: str, priority: str, suppressed: bool = False) -> FindingRecord:
    return FindingRecord(id=f"id-{cause}", cause=cause, priority=priority, title=cause, suppressed=suppressed)


def sweep(
    *findings: FindingRecord, verdict: str = "degraded", error: str | None = None, **services: bool
) -> SweepRecord:
    return SweepRecord(
        environment="staging",
        project="acme-staging",
        started_at="2026-09-15T23:06:52Z",
        duration_ms=10,
        verdict=verdict,
        exit_code=0,
        findings=findings,
        services=dict(services),
        error=error,
    )


def test_new_resolved_escalated_and_deescalated_are_told_apart() -> None:
    before = sweep(finding("a", "P2"), finding("b", "P1"), finding("gone", "P0"))
    after = sweep(finding("a", "P1"), finding("b", "P3"), finding("fresh", "P2"))
    change = compare(after, before, [before, after])
    assert [f.cause for f in change.new] == ["fresh"]
    assert [f.cause for f in change.resolved] == ["gone"]
    assert [(c.finding.cause, c.before, c.finding.priority) for c in change.escalated] == [("a", "P2", "P1")]
    assert [(c.finding.cause, c.before, c.finding.priority) for c in change.deescalated] == [
        ("b", "P1", "P3")
    ]
    assert not change.first and change.previous_verdict == "degraded"


def test_newly_urgent_counts_new_and_escalated_p0_p1_but_not_accepted_or_already_urgent() -> None:
    before = sweep(finding("raised", "P2"), finding("worse", "P1"))
    after = sweep(
        finding("raised", "P1"),  # P2 -> P1: newly urgent
        finding("worse", "P0"),  # P1 -> P0: was urgent already
        finding("fresh", "P0"),  # new P0: newly urgent
        finding("accepted", "P0", suppressed=True),  # new, but accepted in a suppressions file
        finding("minor", "P3"),  # new, not urgent
    )
    change = compare(after, before, [before, after])
    assert sorted(f.cause for f in change.newly_urgent) == ["fresh", "raised"]


def test_first_sweep_makes_every_finding_new() -> None:
    only = sweep(finding("a", "P0"))
    change = compare(only, None, [only])
    assert change.first and change.previous_verdict is None
    assert [f.cause for f in change.new] == ["a"] and [f.cause for f in change.newly_urgent] == ["a"]


def test_a_sweep_without_verdict_neither_adds_nor_resolves() -> None:
    before = sweep(finding("a", "P0"))
    blind = sweep(verdict="unknown", error="the deadline of 120s passed before a verdict")
    change = compare(blind, before, [before, blind])
    assert (change.new, change.resolved, change.escalated) == ([], [], [])
    assert not change.changed


def test_a_service_flaps_when_its_probe_state_changes_often_enough() -> None:
    states = [True, False, True, False, True]
    window = [sweep(backend=ok, auth=True) for ok in states]
    assert flapping_services(window, flap_changes=3) == {"backend": 4}
    assert flapping_services(window, flap_changes=5) == {}
    # A sweep that did not probe the service does not count as a change.
    gaps = [sweep(backend=True), sweep(), sweep(backend=True), sweep(backend=False)]
    assert flapping_services(gaps, flap_changes=1) == {"backend": 1}
    assert compare(window[-1], window[-2], window, flap_changes=3).flapping == {"backend": 4}
