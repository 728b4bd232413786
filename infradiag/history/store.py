"""The sweep history: one SQLite database (stdlib sqlite3) in WAL mode.

Safety: each sweep of an environment is written in one `BEGIN IMMEDIATE` transaction, so a reader sees
either all of it or none of it, a process killed mid-write leaves the last committed sweep intact (SQLite
rolls the unfinished transaction back), and concurrent writers queue on the write lock (busy timeout)
instead of failing. https://www.sqlite.org/wal.html, https://www.sqlite.org/lang_transaction.html

Each sweep's notification (its report and log line) is committed with it in `outbox` and stays there until
it has been written out (`deliver`), so a sweep interrupted between its commit and its output is reported
by the next one instead of never (a transactional outbox).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential

from infradiag.errors import UsageError
from infradiag.history.records import FindingRecord, Notification, SweepRecord

# Each version only adds tables, all `IF NOT EXISTS`, so running _SCHEMA upgrades any older database:
# v2 added `outbox`; a v1 database's sweeps have no row there, i.e. count as delivered.
SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT NOT NULL,
    project TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    unknowns INTEGER NOT NULL,
    error TEXT,
    finding_count INTEGER NOT NULL,
    service_count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sweeps_by_environment ON sweeps (environment, id);
CREATE TABLE IF NOT EXISTS findings (
    sweep_id INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    finding_id TEXT NOT NULL,
    cause TEXT NOT NULL,
    priority TEXT NOT NULL,
    title TEXT NOT NULL,
    resources TEXT NOT NULL,
    affected_services TEXT NOT NULL,
    suppressed INTEGER NOT NULL,
    PRIMARY KEY (sweep_id, finding_id)
);
CREATE TABLE IF NOT EXISTS services (
    sweep_id INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    ok INTEGER NOT NULL,
    PRIMARY KEY (sweep_id, service)
);
CREATE TABLE IF NOT EXISTS outbox (
    sweep_id INTEGER PRIMARY KEY REFERENCES sweeps (id) ON DELETE CASCADE,
    environment TEXT NOT NULL,
    report TEXT NOT NULL,
    log_line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_environment ON outbox (environment, sweep_id);
"""
_SWEEP_COLUMNS = "id, environment, project, started_at, duration_ms, verdict, exit_code, unknowns, error"

# Test-only: when set to a file path, the writer creates that file and sleeps inside its open transaction,
# so tests/history can SIGKILL a sweep in the middle of its write. Never set in normal use.
PAUSE_INSIDE_WRITE_ENV = "INFRADIAG_TEST_PAUSE_INSIDE_WRITE"


@dataclass(frozen=True)
class Recorded:
    """A sweep as committed, with what it is compared against, all read in the writing transaction."""

    sweep: SweepRecord
    previous: SweepRecord | None  # the last earlier sweep of the environment that reached a verdict
    recent: list[SweepRecord]  # the last sweeps of the environment, oldest first, ending with `sweep`


def _locked(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def _switch_to_wal(db: sqlite3.Connection, timeout_s: float) -> None:
    """WAL mode, waiting up to `timeout_s` for another writer. Switching a database still in rollback mode
    needs an exclusive lock, and while another connection writes SQLite refuses at once (the busy handler
    is not consulted, so that two lock upgrades cannot deadlock): a second sweep opening the history as the
    first creates it got "database is locked". The switch is retried, with backoff, instead."""
    retrying = retry(
        retry=retry_if_exception(_locked),
        wait=wait_random_exponential(multiplier=0.01, max=0.5),
        stop=stop_after_delay(timeout_s),
        reraise=True,
    )
    retrying(db.execute)("PRAGMA journal_mode = WAL")


class HistoryStore:
    """The history database at `path`; created (with its folder) on first use."""

    def __init__(self, path: Path, busy_timeout_s: float = 60.0) -> None:
        self.path = path
        if path.is_dir():
            raise UsageError(
                str(path),
                "is a folder, not a history database",
                f"point --history at a file, e.g. {path / 'history.sqlite'}",
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            _switch_to_wal(self._db, busy_timeout_s)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise UsageError(
                str(path), f"not a usable history database ({exc})", "point --history at another file"
            ) from None
        except OSError as exc:
            raise UsageError(
                str(path),
                f"cannot create the history database ({exc.strerror})",
                "point --history (or [history] path) at a file in a writable folder",
            ) from None

    def _migrate(self) -> None:
        with self._transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UsageError(
                    str(self.path),
                    f"history schema v{version} is newer than this infradiag (v{SCHEMA_VERSION})",
                    "upgrade infradiag",
                )
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite when the last connection closes)."""
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def record(
        self,
        sweep: SweepRecord,
        recent: int = 10,
        keep_days: int | None = None,
        notify: Callable[[Recorded], tuple[str, str]] | None = None,
    ) -> Recorded:
        """Commit `sweep` atomically and return it with its baseline and the last `recent` sweeps.
        Sweeps of the same environment older than `keep_days` are pruned in the same transaction.
        `notify` gives the committed sweep's notification, (report, log line), which is committed with it
        as undelivered: `deliver` hands it out until it has been written."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO sweeps (environment, project, started_at, duration_ms, verdict, exit_code,"
                " unknowns, error, finding_count, service_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sweep.environment,
                    sweep.project,
                    sweep.started_at,
                    sweep.duration_ms,
                    sweep.verdict,
                    sweep.exit_code,
                    sweep.unknowns,
                    sweep.error,
                    len(sweep.findings),
                    len(sweep.services),
                ),
            )
            sweep_id = cursor.lastrowid
            assert sweep_id is not None
            self._db.executemany(
                "INSERT INTO findings (sweep_id, finding_id, cause, priority, title, resources,"
                " affected_services, suppressed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        sweep_id,
                        f.id,
                        f.cause,
                        f.priority,
                        f.title,
                        json.dumps(list(f.resources)),
                        json.dumps(list(f.affected_services)),
                        int(f.suppressed),
                    )
                    for f in sweep.findings
                ],
            )
            self._db.executemany(
                "INSERT INTO services (sweep_id, service, ok) VALUES (?, ?, ?)",
                [(sweep_id, name, int(ok)) for name, ok in sweep.services.items()],
            )
            if keep_days is not None:
                cutoff = (datetime.now(UTC) - timedelta(days=keep_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
                self._db.execute(
                    "DELETE FROM sweeps WHERE environment = ? AND started_at < ? AND id != ?",
                    (sweep.environment, cutoff, sweep_id),
                )
            _pause_if_testing()
            stored = replace(sweep, id=sweep_id)
            previous = self.previous_judged(sweep.environment, before_id=sweep_id)
            window = self._sweeps(
                "environment = ? AND id <= ? ORDER BY id DESC LIMIT ?",
                (sweep.environment, sweep_id, max(recent, 1)),
            )
            recorded = Recorded(sweep=stored, previous=previous, recent=list(reversed(window)))
            if notify is not None:
                report, log_line = notify(recorded)
                self._db.execute(
                    "INSERT INTO outbox (sweep_id, environment, report, log_line) VALUES (?, ?, ?, ?)",
                    (sweep_id, sweep.environment, report, log_line),
                )
        return recorded

    def deliver(
        self, environment: str, up_to: int, write: Callable[[list[Notification]], None]
    ) -> list[Notification]:
        """Hand `environment`'s undelivered notifications up to sweep `up_to` to `write`, oldest first, and
        mark them delivered (drop them from the outbox) only once `write` has returned; returns them.

        It all happens inside one write transaction: two sweeps of the environment never both take the same
        notification, and if `write` raises, or the process dies while writing, they stay undelivered (a
        later sweep writes them again: at least once, exactly once unless interrupted mid-write)."""
        with self._transaction():
            pending = [
                Notification(sweep_id=int(row[0]), environment=environment, report=row[1], log_line=row[2])
                for row in self._db.execute(
                    "SELECT sweep_id, report, log_line FROM outbox"
                    " WHERE environment = ? AND sweep_id <= ? ORDER BY sweep_id",
                    (environment, up_to),
                )
            ]
            if pending:
                write(pending)
                self._db.executemany(
                    "DELETE FROM outbox WHERE sweep_id = ?", [(n.sweep_id,) for n in pending]
                )
        return pending

    def undelivered(self, environment: str) -> list[int]:
        """The ids of `environment`'s sweeps whose notification has not been written yet, oldest first."""
        rows = self._db.execute(
            "SELECT sweep_id FROM outbox WHERE environment = ? ORDER BY sweep_id", (environment,)
        )
        return [int(row[0]) for row in rows]

    def previous_judged(self, environment: str, before_id: int | None = None) -> SweepRecord | None:
        """The last sweep of `environment` (before sweep `before_id`, if given) that reached a verdict."""
        rows = self._sweeps(
            "environment = ? AND id < ? AND error IS NULL AND verdict != 'unknown' ORDER BY id DESC LIMIT 1",
            (environment, before_id if before_id is not None else 2**62),
        )
        return rows[0] if rows else None

    def timeline(self, environment: str, limit: int) -> list[SweepRecord]:
        """The last `limit` sweeps of `environment`, oldest first."""
        rows = self._sweeps("environment = ? ORDER BY id DESC LIMIT ?", (environment, limit))
        return list(reversed(rows))

    def environments(self) -> list[str]:
        """Every environment with at least one stored sweep, sorted."""
        return [row[0] for row in self._db.execute("SELECT DISTINCT environment FROM sweeps ORDER BY 1")]

    def _sweeps(self, where: str, params: tuple[object, ...]) -> list[SweepRecord]:
        rows = self._db.execute(f"SELECT {_SWEEP_COLUMNS} FROM sweeps WHERE {where}", params).fetchall()
        return [self._sweep(row) for row in rows]

    def _sweep(self, row: tuple[object, ...]) -> SweepRecord:
        sweep_id = int(str(row[0]))
        findings = tuple(
            FindingRecord(
                id=f[0],
                cause=f[1],
                priority=f[2],
                title=f[3],
                resources=tuple(json.loads(f[4])),
                affected_services=tuple(json.loads(f[5])),
                suppressed=bool(f[6]),
            )
            for f in self._db.execute(
                "SELECT finding_id, cause, priority, title, resources, affected_services, suppressed"
                " FROM findings WHERE sweep_id = ? ORDER BY priority, finding_id",
                (sweep_id,),
            )
        )
        services = {
            name: bool(ok)
            for name, ok in self._db.execute(
                "SELECT service, ok FROM services WHERE sweep_id = ? ORDER BY service", (sweep_id,)
            )
        }
        return SweepRecord(
            id=sweep_id,
            environment=str(row[1]),
            project=str(row[2]),
            started_at=str(row[3]),
            duration_ms=int(str(row[4])),
            verdict=str(row[5]),
            exit_code=int(str(row[6])),
            unknowns=int(str(row[7])),
            error=None if row[8] is None else str(row[8]),
            findings=findings,
            services=services,
        )


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception. IMMEDIATE takes the write lock up front,
    so two writers queue on the busy timeout rather than deadlocking on a read-to-write upgrade."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
            self._db.execute("ROLLBACK")


def _pause_if_testing() -> None:
    marker = os.environ.get(PAUSE_INSIDE_WRITE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(120)
