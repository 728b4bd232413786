"""A sweep's lines are never lost: committed with the sweep, written after it, and written late by the next
sweep when a kill, an interrupt or a failing stdout/stderr came in between. An interrupted run that judged
nothing never exits 0."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli_process import reaped
from tests.sweep.staging import staging_config, staging_history, start_sweep, sweep_args, sweep_staging
from tests.sweep.sweeping import (
    CONNECTOR,
    HEALTHY,
    INCIDENT,
    log_lines,
    run_paused,
    sweep_count,
)

# Each case kills, interrupts or starves the output of a sweep in a process of its own.
pytestmark = pytest.mark.process

NEW_P0 = f"new          P0 vpc_connector.saturated on {CONNECTOR}"


def assert_late_p0_then_own(result: subprocess.CompletedProcess[str], missed: int) -> None:
    """`result` is a sweep of the incident that first wrote sweep `missed`'s lines (a new P0), flagged late,
    then its own (no change)."""
    assert result.returncode == 1, result.stderr
    late, own = log_lines(result.stderr)
    assert (late["sweepId"], late["redelivered"], late["firstSweep"]) == (missed, True, True)
    assert late["counts"]["newP0P1"] == 1 and late["severity"] == "ERROR"  # what an alert filters on
    assert late["message"].startswith("late: staging: down (first sweep); new P0 vpc_connector.saturated")
    assert (own["sweepId"], own["redelivered"], own["counts"]["newP0P1"]) == (missed + 1, False, 0)
    assert f"staging: late report of sweep #{missed}" in result.stdout
    assert result.stdout.index(NEW_P0) < result.stdout.index("no change since the last sweep")


def test_a_sweep_killed_between_its_commit_and_its_lines_is_reported_late_by_the_next(tmp_path: Path) -> None:
    config = staging_config(tmp_path, INCIDENT)
    killed = run_paused(sweep_args(config), tmp_path / "paused", signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout == "" and log_lines(killed.stderr) == []  # nothing was written
    assert sweep_count(tmp_path / ".infradiag" / "history.sqlite") == 1  # but the sweep is stored

    nxt = sweep_staging(config)
    assert_late_p0_then_own(nxt, missed=1)

    again = sweep_staging(config)  # delivered once: not again
    [line] = log_lines(again.stderr)
    assert (line["sweepId"], line["redelivered"]) == (3, False)
    assert "late report" not in again.stdout


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_first_sweep_of_every_cannot_tell_and_its_lines_come_next_time(
    tmp_path: Path, stop: signal.Signals
) -> None:
    config = staging_config(tmp_path, INCIDENT)
    args = sweep_args(config, "--every", "5m")
    interrupted = run_paused(args, tmp_path / "paused", stop)
    assert interrupted.returncode == 3, interrupted.stderr  # judged, but told nobody: never 0
    assert "Traceback" not in interrupted.stderr
    assert interrupted.stderr.strip().count("\n") == 0 and "interrupted" in interrupted.stderr
    assert interrupted.stdout == ""

    assert_late_p0_then_own(sweep_staging(config), missed=1)


def _sweep_with_broken_output(config: Path, stream: str, how: str) -> subprocess.CompletedProcess[str]:
    """A sweep whose `stream` (stdout or stderr) is /dev/full ("full") or a pipe nobody reads ("closed")."""
    if how == "full":
        with open("/dev/full", "w") as full:
            started = start_sweep(
                config,
                stdout=full if stream == "stdout" else subprocess.PIPE,
                stderr=full if stream == "stderr" else subprocess.PIPE,
            )
            with reaped(started) as process:
                out, err = process.communicate(timeout=120)
    else:
        with reaped(start_sweep(config)) as process:
            assert process.stdout is not None and stream == "stdout"
            process.stdout.close()  # the reader went away: writing gets EPIPE
            out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out or "", err or "")


@pytest.mark.parametrize(("stream", "how"), [("stdout", "full"), ("stdout", "closed"), ("stderr", "full")])
def test_a_sweep_that_cannot_write_its_lines_fails_and_they_are_written_next_time(
    tmp_path: Path, stream: str, how: str
) -> None:
    if how == "full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    config = staging_config(tmp_path, INCIDENT)
    database = tmp_path / ".infradiag" / "history.sqlite"
    failed = _sweep_with_broken_output(config, stream, how)
    assert failed.returncode == 1  # non-zero; here the P0 the sweep found
    assert sweep_count(database) == 1
    if stream == "stdout":  # one line on stderr names the file, the stream and what happens next
        assert failed.stderr.strip().count("\n") == 0, failed.stderr
        assert str(database) in failed.stderr and "stdout" in failed.stderr
        assert "next sweep" in failed.stderr and "Traceback" not in failed.stderr
    else:  # the report went out, the log line could not: the sweep is not delivered
        assert NEW_P0 in failed.stdout and "Traceback" not in failed.stdout

    assert_late_p0_then_own(sweep_staging(config), missed=1)


def test_a_healthy_sweep_that_cannot_write_its_lines_never_exits_0(tmp_path: Path) -> None:
    config = staging_config(tmp_path, HEALTHY)
    failed = _sweep_with_broken_output(config, "stdout", "closed")
    assert failed.returncode == 3, failed.stderr
    assert failed.stderr.strip().count("\n") == 0 and "Broken pipe" in failed.stderr


# The history's schema as infradiag wrote it before the outbox (user_version 1).
V1_SCHEMA = """
CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, environment TEXT NOT NULL, project TEXT NOT NULL,
    started_at TEXT NOT NULL, duration_ms INTEGER NOT NULL, verdict TEXT NOT NULL,
    exit_code INTEGER NOT NULL, unknowns INTEGER NOT NULL, error TEXT, finding_count INTEGER NOT NULL,
    service_count INTEGER NOT NULL
);
CREATE INDEX sweeps_by_environment ON sweeps (environment, id);
CREATE TABLE findings (
    sweep_id INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE, finding_id TEXT NOT NULL,
    cause TEXT NOT NULL, priority TEXT NOT NULL, title TEXT NOT NULL, resources TEXT NOT NULL,
    affected_services TEXT NOT NULL, suppressed INTEGER NOT NULL, PRIMARY KEY (sweep_id, finding_id)
);
CREATE TABLE services (
    sweep_id INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE, service TEXT NOT NULL,
    ok INTEGER NOT NULL, PRIMARY KEY (sweep_id, service)
);
INSERT INTO sweeps VALUES (1, 'staging', 'acme-staging', '2026-09-14T23:00:00Z', 900, 'healthy', 0, 0,
                           NULL, 0, 1);
INSERT INTO services VALUES (1, 'backend', 1);
PRAGMA user_version = 1;
"""


def test_a_v1_history_is_migrated_and_its_sweeps_count_as_delivered(tmp_path: Path) -> None:
    database = tmp_path / ".infradiag" / "history.sqlite"
    database.parent.mkdir()
    with closing(sqlite3.connect(database)) as db:
        db.executescript(V1_SCHEMA)
    config = staging_config(tmp_path, INCIDENT)

    result = sweep_staging(config)
    assert result.returncode == 1, result.stderr
    [line] = log_lines(result.stderr)  # the v1 sweep is the baseline, and is not written again
    assert (line["sweepId"], line["previousVerdict"], line["firstSweep"]) == (2, "healthy", False)
    assert (line["counts"]["newP0P1"], line["redelivered"]) == (1, False)
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    failed = _sweep_with_broken_output(config, "stdout", "closed")  # the outbox works in the migrated file
    assert failed.returncode == 1
    nxt = sweep_staging(config)
    assert [(x["sweepId"], x["redelivered"]) for x in log_lines(nxt.stderr)] == [(3, True), (4, False)]
    timeline = staging_history(config, "--format", "json")
    assert timeline.returncode == 0, timeline.stderr
    assert "2026-09-14T23:00:00Z" in timeline.stdout  # the v1 sweep still reads
