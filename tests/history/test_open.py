"""Opening the history: a path that cannot be a database is one usage error naming it and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradiag.errors import UsageError
from infradiag.history import HistoryStore


def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        HistoryStore(tmp_path)
    assert (caught.value.where, caught.value.problem) == (
        str(tmp_path),
        "is a folder, not a history database",
    )
    assert str(tmp_path / "history.sqlite") in str(caught.value.fix)


def test_a_database_under_a_file_says_how_to_fix_it(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder\n")
    with pytest.raises(UsageError) as caught:
        HistoryStore(blocker / "history.sqlite")
    assert caught.value.where == str(blocker / "history.sqlite")
    assert "cannot create the history database" in caught.value.problem
    assert caught.value.fix and "writable folder" in caught.value.fix
