"""The history's outbox: a sweep's notification is committed with it and handed out until it was written."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from infradiag.history import HistoryStore, Notification, Recorded, SweepRecord


def sweep(environment: str = "staging") -> SweepRecord:
    return SweepRecord(environment, "acme-staging", "2026-09-15T23:06:52Z", 10, "down", 1)


def notice(recorded: Recorded) -> tuple[str, str]:
    return f"report {recorded.sweep.id}", f'{{"sweepId": {recorded.sweep.id}}}'


class Refused(Exception):
    pass


def refuse(pending: list[Notification]) -> None:
    raise Refused


def test_a_notification_stays_undelivered_until_it_is_written_and_is_handed_out_once(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        first = store.record(sweep(), notify=notice).sweep.id
        store.record(sweep("other"), notify=notice)
        assert first is not None
        with pytest.raises(Refused):  # the writer failed: nothing is marked delivered
            store.deliver("staging", first, refuse)
        assert store.undelivered("staging") == [first]
        second = store.record(sweep(), notify=notice).sweep.id
        assert second is not None

        written: list[Notification] = []
        delivered = store.deliver("staging", second, written.extend)
        assert [n.sweep_id for n in written] == [first, second]  # oldest first
        assert written[0] == Notification(first, "staging", f"report {first}", f'{{"sweepId": {first}}}')
        assert delivered == written
        assert store.deliver("staging", second, refuse) == []  # never twice
        assert store.undelivered("staging") == [] and len(store.undelivered("other")) == 1


def test_delivery_takes_nothing_past_its_own_sweep(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        mine = store.record(sweep(), notify=notice).sweep.id
        later = store.record(sweep(), notify=notice).sweep.id  # a concurrent sweep's, committed after mine
        assert mine is not None and later is not None
        written: list[Notification] = []
        store.deliver("staging", mine, written.extend)
        assert [n.sweep_id for n in written] == [mine]
        assert store.undelivered("staging") == [later]  # left for its own sweep


def test_a_second_deliverer_cannot_take_what_the_first_is_writing(tmp_path: Path) -> None:
    database = tmp_path / "h.sqlite"
    with HistoryStore(database) as store:
        own = store.record(sweep(), notify=notice).sweep.id
    assert own is not None
    writing, release = threading.Event(), threading.Event()
    written: list[Notification] = []

    def slow(pending: list[Notification]) -> None:
        writing.set()
        assert release.wait(60)
        written.extend(pending)

    def deliver_slowly() -> None:
        with HistoryStore(database) as first:
            first.deliver("staging", own, slow)

    with HistoryStore(database, busy_timeout_s=0.05) as second:
        worker = threading.Thread(target=deliver_slowly)
        worker.start()
        try:
            assert writing.wait(60)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                second.deliver("staging", own, refuse)  # it waits for the first rather than take the same
        finally:
            release.set()
            worker.join(60)
        assert [n.sweep_id for n in written] == [own]
        assert second.deliver("staging", own, refuse) == []
