"""Writing each sweep's notification out of the history's outbox: its change lines on stdout, its log line on
stderr. A new P0/P1 is never skipped silently, and nothing is written twice unless a write was cut short.

A sweep is committed together with its notification, marked undelivered (sweep.run). Only then are the
lines written, and they are marked delivered only once both streams have flushed. A sweep interrupted,
killed or refused by its output in between leaves its notification in the outbox, and the next sweep of
the environment writes it first, flagged late (`redelivered`), then its own. Comparing against the stored
sweep would otherwise never report that P0/P1 as new again.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from infradiag.history import HistoryLocation, HistoryStore, Notification
from infradiag.sweep.logline import redelivered_line
from infradiag.sweep.run import EnvironmentSweep

# Test-only: when set to a file path, a sweep creates that file and sleeps after committing its results and
# before writing their lines, so tests can kill or interrupt it there. Never set in normal use.
PAUSE_BEFORE_DELIVERY_ENV = "INFRADIAG_TEST_PAUSE_BEFORE_DELIVERY"


class DeliveryError(Exception):
    """A sweep's lines could not be written (or its outbox not read): they stay undelivered in `database`."""

    def __init__(self, environment: str, database: Path, stream: str, error: Exception) -> None:
        self.environment = environment
        self.database = database
        self.stream = stream  # "stdout", "stderr" or "history"
        self.error = error
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message as printed: what failed, and that the next sweep delivers it."""
        if self.stream == "history":
            problem = f"the undelivered lines of {self.environment} could not be read ({self.error})"
            fix = "check the history file; the next sweep delivers them"
        else:
            problem = (
                f"the lines of the sweep of {self.environment} could not be written to {self.stream}"
                f" ({self.error}); they stay undelivered in this history"
            )
            fix = f"give the sweep a writable {self.stream}; the next sweep of {self.environment} writes them"
        return f"{self.database}: {problem} (fix: {fix})"


def deliver_all(
    location: HistoryLocation, results: Sequence[EnvironmentSweep], out: TextIO | None, err: TextIO | None
) -> None:
    """Write each environment's undelivered notifications (older sweeps' first, flagged late, then this
    sweep's) to `out` and `err`, marking each delivered once written and flushed; then publish every
    history, whether or not that succeeded, so a published copy keeps what is still undelivered. Raises
    DeliveryError at the first stream that fails; the notifications not yet written stay undelivered."""
    try:
        _pause_if_testing()
        for result in results:
            assert result.record.id is not None  # a committed sweep
            deliver(location, result.record.environment, result.record.id, out, err)
    finally:
        for environment in dict.fromkeys(r.record.environment for r in results):
            _publish(location, environment)


def deliver(
    location: HistoryLocation, environment: str, sweep_id: int, out: TextIO | None, err: TextIO | None
) -> list[Notification]:
    """Write `environment`'s undelivered notifications up to sweep `sweep_id` (its own) and mark them
    delivered; any but `sweep_id`'s own is flagged late. Returns those written; DeliveryError if a stream
    or the history failed, and then none of them is marked delivered."""
    database = location.database(environment)

    def write(pending: list[Notification]) -> None:
        for notification in pending:
            report, line = notification.report, notification.log_line
            if notification.sweep_id != sweep_id:
                report = (
                    f"{environment}: late report of sweep #{notification.sweep_id},"
                    f" not written when it ran\n{report}"
                )
                line = redelivered_line(line, datetime.now(UTC))
            _write(out, "stdout", report + "\n", environment, database)
            _write(err, "stderr", line + "\n", environment, database)

    try:
        with HistoryStore(database) as store:
            return store.deliver(environment, sweep_id, write)
    except sqlite3.Error as exc:
        raise DeliveryError(environment, database, "history", exc) from None


def _write(stream: TextIO | None, name: str, text: str, environment: str, database: Path) -> None:
    if stream is None:  # the process was started with this file descriptor closed
        raise DeliveryError(environment, database, name, OSError("it is closed"))
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError) as exc:  # ValueError: the stream object was closed
        raise DeliveryError(environment, database, name, exc) from None


def _publish(location: HistoryLocation, environment: str) -> None:
    try:
        location.publish(environment)
    except (OSError, sqlite3.Error) as exc:  # the sweep is committed locally; the next publish catches up
        try:
            if sys.stderr is not None:
                sys.stderr.write(f"infradiag: could not publish the history of {environment}: {exc}\n")
        except (OSError, ValueError):  # stderr itself is gone
            pass


def _pause_if_testing() -> None:
    marker = os.environ.get(PAUSE_BEFORE_DELIVERY_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(120)
