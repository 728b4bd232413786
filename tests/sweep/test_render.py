"""The plain-text views of sweeps and of the history: one line per item, whatever the titles hold."""

from __future__ import annotations

from infradiag.history.records import FindingRecord, SweepRecord
from infradiag.sweep.diff import SweepChange
from infradiag.sweep.render import change_lines
from infradiag.sweep.timeline import timeline_lines

# A health body's keys end up in finding titles: this one tries to forge a line and clear the screen.
TITLE = "backend reports db\n  resolved     P0 fake.cause  [x]\x1b[2J failing"
SHOWN = "backend reports db\\n  resolved     P0 fake.cause  [x]\\x1b[2J failing"


def _sweep() -> tuple[SweepRecord, SweepChange]:
    finding = FindingRecord(id="f1", cause="app.dependency_failing", priority="P1", title=TITLE)
    sweep = SweepRecord(
        environment="staging",
        project="p",
        started_at="2026-09-15T23:06:52Z",
        duration_ms=1,
        verdict="degraded",
        exit_code=1,
        findings=(finding,),
        services={"backend": False},
        id=7,
    )
    return sweep, SweepChange(first=False, previous_verdict="healthy", new=[finding])


def test_sweep_lines_show_a_title_on_its_own_line() -> None:
    sweep, change = _sweep()
    lines = "\n".join(change_lines(sweep, change)).splitlines()
    assert lines[1:] == [
        "  new          P1 app.dependency_failing  [f1]",
        f"               {SHOWN}",
    ]


def test_history_lines_show_a_title_on_its_own_line() -> None:
    lines = "\n".join(timeline_lines("staging", [_sweep()])).splitlines()
    assert lines[-1] == f"        + P1 app.dependency_failing [f1] {SHOWN}"
    assert len(lines) == 3
