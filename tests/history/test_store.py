"""The history database: what goes in comes out, pruning, bad files, safety under kills and concurrency."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from infradiag.errors import UsageError
from infradiag.history import FindingRecord, HistoryStore, SweepRecord
from infradiag.history.store import PAUSE_INSIDE_WRITE_ENV
from tests.conftest import ROOT, run_cli
from tests.sweep.sweeping import HEALTHY, INCIDENT, command, environ, log_lines, write_config

# Writes `count` synthetic sweeps (0: until killed), each a large transaction, printing each committed number.
WRITER = """
import sys
from pathlib import Path
from infradiag.history import FindingRecord, HistoryStore, SweepRecord
path, environment, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with HistoryStore(path) as store:
    n = 0
    while count == 0 or n < count:
        findings = tuple(FindingRecord(f"{n}-{i}", "cause", "P2", "title", (f"r{i}",)) for i in range(300))
        services = {f"svc-{i}": (n + i) % 2 == 0 for i in range(300)}
        sweep = SweepRecord(environment, "p", "2026-09-15T23:06:52Z", 1, "degraded", 0, findings, services)
        store.record(sweep)
        print(n, flush=True)
        n += 1
"""


def record(environment: str = "staging", verdict: str = "down", started_at: str = "2026-09-15T23:06:52Z",
           error: str | None = None) -> SweepRecord:  # fmt: skip
    return SweepRecord(
        environment=environment,
        project="acme-staging",
        started_at=started_at,
        duration_ms=1830,
        verdict=verdict,
        exit_code=1,
        findings=(
            FindingRecord("f3c1", "vpc_connector.saturated", "P0", "Connector full", ("conn",), ("a", "b")),
            FindingRecord("9a2e", "run.app_error", "P2", "5xx", (), (), suppressed=True),
        ),
        services={"backend": False, "auth": True},
        unknowns=2,
        error=error,
    )


def assert_complete(database: Path) -> int:
    """The database is intact and every stored sweep has all of its rows; returns the number of sweeps."""
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        partial = db.execute(
            "SELECT id FROM sweeps s"
            " WHERE finding_count != (SELECT count(*) FROM findings WHERE sweep_id = s.id)"
            " OR service_count != (SELECT count(*) FROM services WHERE sweep_id = s.id)"
        ).fetchall()
        assert partial == []
        orphans = db.execute(
            "SELECT count(*) FROM findings WHERE sweep_id NOT IN (SELECT id FROM sweeps)"
        ).fetchone()[0]
        assert orphans == 0
        return int(db.execute("SELECT count(*) FROM sweeps").fetchone()[0])


def test_a_recorded_sweep_reads_back_whole_with_its_baseline(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        first = store.record(record(verdict="degraded"))
        blind = store.record(record(verdict="unknown", error="deadline"))
        third = store.record(record())
        store.record(record(environment="other"))
        assert first.previous is None and first.sweep.id == 1
        assert blind.previous == first.sweep
        assert third.previous == first.sweep  # the sweep without a verdict is no baseline
        assert [s.id for s in third.recent] == [1, 2, 3]
        assert store.timeline("staging", 2) == [blind.sweep, third.sweep]
        assert store.environments() == ["other", "staging"]
    with HistoryStore(tmp_path / "h.sqlite") as reopened:
        assert reopened.timeline("staging", 10)[-1] == third.sweep
        with closing(sqlite3.connect(tmp_path / "h.sqlite")) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sweeps_older_than_keep_days_are_pruned_with_their_rows(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.record(record(started_at="2000-01-01T00:00:00Z"))
        store.record(record(environment="other", started_at="2000-01-01T00:00:00Z"))
        kept = store.record(record(started_at="2099-01-01T00:00:00Z"), keep_days=30)
        assert [s.id for s in store.timeline("staging", 10)] == [kept.sweep.id]
        assert len(store.timeline("other", 10)) == 1  # another environment's sweeps are left alone
    assert assert_complete(tmp_path / "h.sqlite") == 2


def test_a_file_that_is_not_a_history_is_a_usage_error(tmp_path: Path) -> None:
    garbage = tmp_path / "notes.sqlite"
    garbage.write_text("not a database " * 500)
    with pytest.raises(UsageError) as error:
        HistoryStore(garbage)
    assert error.value.where == str(garbage)

    newer = tmp_path / "newer.sqlite"
    with closing(sqlite3.connect(newer)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(UsageError) as error:
        HistoryStore(newer)
    assert "newer" in error.value.problem


@pytest.mark.process
def test_a_sweep_killed_inside_its_write_leaves_the_last_complete_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the killed sweep is a process; the others run in this one, in the environment it gets.
    for name in list(os.environ):
        if name.startswith("CLOUD_RUN_"):
            monkeypatch.delenv(name)
    config = write_config(tmp_path, {"staging": HEALTHY})
    assert run_cli("sweep", "staging", "--config", str(config)).returncode == 0
    database = tmp_path / ".infradiag" / "history.sqlite"

    write_config(tmp_path, {"staging": INCIDENT})
    marker = tmp_path / "inside-the-write"
    sweep = subprocess.Popen(
        command("sweep", "staging", "--config", str(config)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environ(**{PAUSE_INSIDE_WRITE_ENV: str(marker)}),
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and sweep.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the sweep never reached its write"
    os.kill(sweep.pid, signal.SIGKILL)  # rows of the incident sweep are written but not committed
    sweep.wait(timeout=30)

    assert assert_complete(database) == 1
    with HistoryStore(database) as store:
        [only] = store.timeline("staging", 10)
        assert (only.verdict, only.findings) == ("healthy", ())
    timeline = run_cli("history", "staging", "--config", str(config), "--format", "json")
    assert timeline.returncode == 0 and '"verdict": "healthy"' in timeline.stdout

    again = run_cli("sweep", "staging", "--config", str(config))  # the history keeps working
    [line] = log_lines(again.stderr)
    assert (line["sweepId"], line["previousVerdict"], line["counts"]["newP0P1"]) == (2, "healthy", 1)


@pytest.mark.process
def test_random_kills_never_leave_a_partial_sweep(tmp_path: Path) -> None:
    database = tmp_path / "h.sqlite"
    chance = random.Random(7)
    stored = 0
    for _ in range(6):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(database), "staging", "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # at least one sweep committed
        time.sleep(chance.uniform(0.0, 0.4))
        writer.kill()
        writer.wait(timeout=30)
        now = assert_complete(database)
        assert now > stored
        stored = now


@pytest.mark.process
def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    database = tmp_path / "h.sqlite"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(database), name, "25"], stdout=subprocess.PIPE, cwd=ROOT
        )
        for name in ("staging", "qa")
    ]
    for writer in writers:
        writer.communicate(timeout=120)
    assert [w.returncode for w in writers] == [0, 0]
    assert assert_complete(database) == 50
    with HistoryStore(database) as store:
        assert [len(store.timeline(name, 100)) for name in ("staging", "qa")] == [25, 25]


def test_opening_waits_for_a_writer_of_a_database_still_in_rollback_mode(tmp_path: Path) -> None:
    # As when a second sweep opens the history while the first is still creating it: switching to WAL
    # needs the exclusive lock, and SQLite refuses that at once rather than calling the busy handler.
    database = tmp_path / "h.sqlite"
    writer = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE other (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO other VALUES (1)")
    release = threading.Timer(0.3, writer.execute, ("COMMIT",))
    release.start()
    try:
        with HistoryStore(database) as store:
            assert store.timeline("staging", 10) == []
    finally:
        release.join()
        writer.close()
    assert sqlite3.connect(database).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
