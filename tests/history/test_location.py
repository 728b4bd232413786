"""Where histories live: the [history] settings, one file per environment, publish and seed copies."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from infradiag.config import load_config
from infradiag.errors import UsageError
from infradiag.history import FindingRecord, HistoryLocation, HistoryStore, SweepRecord


def config_with(tmp_path: Path, history: str) -> Path:
    path = tmp_path / "infradiag.toml"
    path.write_text(f'[environments.staging]\nproject = "p"\nregion = "r"\n\n[history]\n{history}')
    return path


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    history = load_config(
        config_with(tmp_path, 'path = "h/{environment}.sqlite"\npublish_dir = "out"\n')
    ).history
    location = HistoryLocation.from_config(history)
    assert location.database("staging") == tmp_path / "h" / "staging.sqlite"
    assert location.published("staging") == tmp_path / "out" / "staging.sqlite"
    assert HistoryLocation.from_config(history, Path("x.sqlite")).database("staging") == Path("x.sqlite")


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ('path = "h/{env}.sqlite"\n', "only contain the placeholder {environment}"),
        ('publish_dir = "out"\n', "needs one database per environment"),
        ("keep_days = 0\n", "history.keep_days"),
    ],
)
def test_bad_history_settings_name_the_file_and_the_problem(
    tmp_path: Path, setting: str, problem: str
) -> None:
    path = config_with(tmp_path, setting)
    with pytest.raises(UsageError) as error:
        load_config(path)
    assert error.value.where == str(path)
    assert problem in error.value.problem


def test_an_environment_name_that_cannot_name_a_file_is_refused() -> None:
    location = HistoryLocation(path="/tmp/h/{environment}.sqlite")
    with pytest.raises(UsageError):
        location.database("../etc")
    assert HistoryLocation(path="/tmp/one.sqlite").database("../etc") == Path("/tmp/one.sqlite")


def test_publish_copies_a_snapshot_and_seed_restores_it(tmp_path: Path) -> None:
    location = HistoryLocation(
        path=str(tmp_path / "local" / "{environment}.sqlite"), publish_dir=tmp_path / "pub"
    )
    sweep = SweepRecord(
        "staging", "p", "2026-09-15T23:06:52Z", 5, "down", 1, (FindingRecord("f1", "c.d", "P0", "t"),)
    )
    with HistoryStore(location.database("staging")) as store:
        store.record(sweep)
        published = location.publish("staging")  # while the writer's connection is still open
    assert published == tmp_path / "pub" / "staging.sqlite"
    assert not list((tmp_path / "pub").glob(".*partial"))
    location.database("staging").unlink()
    assert location.seed("staging") is True
    assert location.seed("staging") is False  # never over an existing local database
    with HistoryStore(location.database("staging")) as store:
        [restored] = store.timeline("staging", 5)
    assert restored.findings == sweep.findings and restored.verdict == "down"
    with closing(sqlite3.connect(published)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
