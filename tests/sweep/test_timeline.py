"""The history's timeline: each sweep compared with the last sweep before it that reached a verdict, so a
sweep that ended without one (past its deadline, an error) neither resolves nor re-announces findings."""

from __future__ import annotations

from pathlib import Path

from infradiag.history import HistoryStore
from infradiag.history.records import FindingRecord, SweepRecord
from infradiag.sweep.diff import SweepChange
from infradiag.sweep.timeline import timeline, timeline_json, timeline_lines


def finding(cause: str, priority: str = "P1") -> FindingRecord:
    return FindingRecord(
        id=f"id-{cause}",
        cause=cause,
        priority=priority,
        title=f"{cause} title",
        resources=(f"projects/p/things/{cause}",),
        affected_services=("backend", "auth"),
    )


def sweep(minute: int, *findings: FindingRecord, error: str | None = None) -> SweepRecord:
    return SweepRecord(
        environment="staging",
        project="acme-staging",
        started_at=f"2026-09-15T23:{minute:02d}:00Z",
        duration_ms=10,
        verdict="unknown" if error else "degraded",
        exit_code=3 if error else 1,
        findings=findings,
        services={"backend": False, "web": True, "auth": False},
        error=error,
    )


Entries = list[tuple[SweepRecord, SweepChange]]


def timeline_of(folder: Path, *sweeps: SweepRecord, environment: str = "staging", shown: int = 10) -> Entries:
    """`environment`'s timeline of its last `shown` sweeps, once `sweeps` are recorded in a new history."""
    with HistoryStore(folder / "history.sqlite") as store:
        for each in sweeps:
            store.record(each)
        return timeline(store, environment, shown)


def past_the_deadline(minute: int) -> SweepRecord:
    """A sweep that ended without a verdict."""
    return sweep(minute, error="deadline of 60 s passed")


def around_a_missed_deadline(folder: Path, shown: int) -> Entries:
    """The last `shown` of three sweeps: `connector` at 23:00, one without a verdict at 23:05, `connector`
    and a new `alert` at 23:10."""
    connector = finding("connector")
    return timeline_of(
        folder,
        sweep(0, connector),
        past_the_deadline(5),
        sweep(10, connector, finding("alert", "P3")),
        shown=shown,
    )


def changes(entries: Entries) -> list[tuple[list[str], list[str]]]:
    return [([f.cause for f in change.new], [f.cause for f in change.resolved]) for _, change in entries]


def test_a_sweep_without_a_verdict_does_not_become_the_baseline(tmp_path: Path) -> None:
    entries = around_a_missed_deadline(tmp_path, 10)
    assert [s.started_at[-9:-4] for s, _ in entries] == ["23:00", "23:05", "23:10"]
    # The third sweep is compared with the first, not with the one that saw nothing: only `alert` is new.
    assert changes(entries)[2] == (["alert"], [])
    assert not entries[2][1].first


def test_the_baseline_of_the_oldest_shown_sweep_is_found_before_the_window(tmp_path: Path) -> None:
    entries = around_a_missed_deadline(tmp_path, 2)
    assert [s.started_at[-9:-4] for s, _ in entries] == ["23:05", "23:10"]
    assert changes(entries)[1] == (["alert"], [])
    assert [change.first for _, change in entries] == [False, False]


def test_a_judged_sweep_moves_the_baseline(tmp_path: Path) -> None:
    entries = timeline_of(tmp_path, sweep(0, finding("a")), sweep(5, finding("b")), sweep(10, finding("b")))
    assert changes(entries) == [(["a"], []), (["b"], ["a"]), ([], [])]
    assert [change.first for _, change in entries] == [True, False, False]


def test_the_json_timeline_names_each_sweeps_changes(tmp_path: Path) -> None:
    entries = timeline_of(
        tmp_path,
        sweep(0, finding("a", "P2")),
        past_the_deadline(5),
        sweep(10, finding("a", "P0"), finding("b")),
    )
    document = timeline_json("staging", "history.sqlite", entries)
    assert document["schema"] == "infradiag.history/v1"
    assert (document["environment"], document["database"]) == ("staging", "history.sqlite")
    last = document["sweeps"][2]
    assert last["newFindings"] == ["id-b"]
    assert last["escalatedFindings"] == ["id-a"]
    assert last["resolvedFindings"] == [] and last["deescalatedFindings"] == []
    assert last["counts"] == {"P0": 1, "P1": 1, "P2": 0, "P3": 0}
    assert {k: v for k, v in last.items() if k != "findings"} == {
        "id": 3,
        "startedAt": "2026-09-15T23:10:00Z",
        "durationMs": 10,
        "verdict": "degraded",
        "exitCode": 1,
        "error": None,
        "unknowns": 0,
        "counts": {"P0": 1, "P1": 1, "P2": 0, "P3": 0},
        "services": {"backend": False, "web": True, "auth": False},
        "newFindings": ["id-b"],
        "resolvedFindings": [],
        "escalatedFindings": ["id-a"],
        "deescalatedFindings": [],
    }
    assert last["findings"][0] == {
        "id": "id-a",
        "cause": "a",
        "priority": "P0",
        "title": "a title",
        "resources": ["projects/p/things/a"],
        "affectedServices": ["backend", "auth"],
        "suppressed": False,
    }
    assert [f["id"] for f in last["findings"]] == ["id-a", "id-b"]
    unjudged = document["sweeps"][1]
    assert (unjudged["verdict"], unjudged["exitCode"], unjudged["error"]) == (
        "unknown",
        3,
        "deadline of 60 s passed",
    )


def test_the_text_timeline_has_a_line_per_sweep_and_one_per_change(tmp_path: Path) -> None:
    entries = timeline_of(
        tmp_path,
        sweep(0, finding("a", "P2")),
        sweep(5, error="deadline\npassed"),
        sweep(10, finding("a", "P0"), finding("b")),
        sweep(15, finding("b", "P3")),
    )
    assert timeline_lines("staging", entries) == [
        "History of staging: 4 sweep(s), oldest first",
        "#1     2026-09-15T23:00:00Z  degraded  P0:0 P1:0 P2:1 P3:0  2/3 services failing",
        "        + P2 a [id-a] a title",
        "#2     2026-09-15T23:05:00Z  unknown   P0:0 P1:0 P2:0 P3:0  2/3 services failing"
        "  (deadline\\npassed)",
        "#3     2026-09-15T23:10:00Z  degraded  P0:1 P1:1 P2:0 P3:0  2/3 services failing",
        "        + P1 b [id-b] b title",
        "        ~ P2->P0 a [id-a]",
        "#4     2026-09-15T23:15:00Z  degraded  P0:0 P1:0 P2:0 P3:1  2/3 services failing",
        "        - P0 a [id-a] a title",
        "        ~ P1->P3 b [id-b]",
    ]


def test_an_environment_without_sweeps_has_an_empty_timeline(tmp_path: Path) -> None:
    assert timeline_of(tmp_path, sweep(0, finding("a")), environment="production") == []
