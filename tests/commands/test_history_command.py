"""`infradiag history` on bad paths and flags: exit 2 with one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

from infradiag.history import HistoryStore, SweepRecord
from tests.inprocess import invoke, one_line_usage_error


def swept(database: Path) -> Path:
    with HistoryStore(database) as store:
        store.record(SweepRecord("staging", "acme-staging", "2026-09-15T23:06:52Z", 1830, "healthy", 0))
    return database


def test_a_folder_as_the_history_is_named_as_one(tmp_path: Path) -> None:
    one_line_usage_error(
        ("history", "staging", "--history", str(tmp_path)),
        f"infradiag: {tmp_path}: is a folder, not a history database",
        str(tmp_path / "history.sqlite"),
    )


def test_a_limit_past_what_sqlite_takes_is_a_usage_error(tmp_path: Path) -> None:
    database = swept(tmp_path / "history.sqlite")
    assert invoke("history", "staging", "--history", str(database), "--limit", "5")[0] == 0
    code, stderr = invoke("history", "staging", "--history", str(database), "--limit", "99999999999999999999")
    assert code == 2, stderr
    assert "--limit" in stderr and "Traceback" not in stderr
