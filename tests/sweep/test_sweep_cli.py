"""`infradiag sweep` as a user runs it: what changed between sweeps, the log line, the exit code."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli_process import reaped
from tests.sweep.staging import staging_config, staging_history, start_sweep, sweep_staging
from tests.sweep.sweeping import (
    CONNECTOR,
    HEALTHY,
    INCIDENT,
    log_lines,
    run_here,
    sweep_count,
    write_config,
)

# The fields README "Scheduled sweeps" documents for the log line.
DOCUMENTED_FIELDS = {
    "severity",
    "message",
    "time",
    "logging.googleapis.com/labels",
    "event",
    "environment",
    "project",
    "sweepId",
    "startedAt",
    "durationMs",
    "verdict",
    "previousVerdict",
    "firstSweep",
    "exitCode",
    "error",
    "counts",
    "newFindings",
    "resolvedFindings",
    "escalatedFindings",
    "deescalatedFindings",
    "newP0P1Findings",
    "findings",
    "servicesFailing",
    "flappingServices",
    "task",
    "redelivered",
}
DOCUMENTED_COUNTS = {
    "P0",
    "P1",
    "P2",
    "P3",
    "findings",
    "new",
    "resolved",
    "escalated",
    "deescalated",
    "newP0P1",
    "services",
    "servicesFailing",
    "unknowns",
}


def test_sweeps_of_a_changing_twin_report_the_new_and_then_the_resolved_finding(tmp_path: Path) -> None:
    config = staging_config(tmp_path, HEALTHY)
    first = sweep_staging(config)
    assert first.returncode == 0, first.stderr
    assert "staging: healthy (first sweep)" in first.stdout

    staging_config(tmp_path, INCIDENT)  # the same environment breaks
    second = sweep_staging(config)
    assert second.returncode == 1, second.stderr
    assert "staging: down (was healthy)" in second.stdout
    assert f"new          P0 vpc_connector.saturated on {CONNECTOR}" in second.stdout
    [line] = log_lines(second.stderr)
    incident = next(f for f in line["findings"] if f["cause"] == "vpc_connector.saturated")
    appeared = {f["id"] for f in line["findings"]}
    assert set(line["newFindings"]) == appeared  # the healthy twin had none of them
    assert line["newP0P1Findings"] == [incident["id"]]
    assert line["resolvedFindings"] == []
    assert (line["severity"], line["previousVerdict"], line["counts"]["newP0P1"]) == ("ERROR", "healthy", 1)

    staging_config(tmp_path, HEALTHY)  # and is fixed
    third = sweep_staging(config)
    assert third.returncode == 0, third.stderr
    assert "staging: healthy (was down)" in third.stdout
    assert "resolved     P0 vpc_connector.saturated" in third.stdout
    [line] = log_lines(third.stderr)
    assert set(line["resolvedFindings"]) == appeared
    assert (line["newFindings"], line["counts"]["newP0P1"], line["severity"]) == ([], 0, "NOTICE")

    timeline = staging_history(config, "--format", "json")
    assert timeline.returncode == 0, timeline.stderr
    sweeps = json.loads(timeline.stdout)["sweeps"]
    assert [s["verdict"] for s in sweeps] == ["healthy", "down", "healthy"]
    assert [set(s["newFindings"]) for s in sweeps] == [set(), appeared, set()]
    assert [set(s["resolvedFindings"]) for s in sweeps] == [set(), set(), appeared]
    text = staging_history(config).stdout
    assert f"+ P0 vpc_connector.saturated [{incident['id']}]" in text
    assert f"- P0 vpc_connector.saturated [{incident['id']}]" in text


def test_the_log_line_is_one_json_object_with_the_documented_fields(tmp_path: Path) -> None:
    config = staging_config(tmp_path, INCIDENT)
    result = sweep_staging(config)
    assert result.returncode == 1, result.stderr
    raw = [line for line in result.stderr.splitlines() if line.startswith("{")]
    assert len(raw) == 1  # one line per environment per sweep
    line = json.loads(raw[0])
    assert set(line) == DOCUMENTED_FIELDS
    assert set(line["counts"]) == DOCUMENTED_COUNTS
    assert line["severity"] == "ERROR"  # a LogSeverity name
    assert line["message"].startswith("staging: down (first sweep); new P0 vpc_connector.saturated")
    assert line["logging.googleapis.com/labels"] == {
        "app": "infradiag",
        "event": "infradiag.sweep/v1",
        "environment": "staging",
        "verdict": "down",
    }
    assert all(isinstance(v, str) for v in line["logging.googleapis.com/labels"].values())
    assert (line["environment"], line["project"], line["verdict"]) == ("staging", "acme-staging", "down")
    assert (line["firstSweep"], line["previousVerdict"], line["exitCode"], line["error"]) == (
        True,
        None,
        1,
        None,
    )
    assert line["counts"]["P0"] == line["counts"]["newP0P1"] == 1
    assert line["counts"]["servicesFailing"] == line["counts"]["services"] == 9
    assert line["time"] == line["startedAt"] and line["startedAt"].endswith("Z")
    assert line["task"] == {"index": 0, "count": 1}
    assert line["redelivered"] is False  # written by its own sweep, on time


@pytest.mark.process
def test_two_sweeps_writing_at_once_both_land_in_order(tmp_path: Path) -> None:
    config = staging_config(tmp_path, HEALTHY)
    # Two processes, as two overlapping scheduled runs: each its own connection and its own lock.
    sweeps = [start_sweep(config) for _ in range(2)]
    with reaped(sweeps[0]), reaped(sweeps[1]):
        outputs = [s.communicate(timeout=120) for s in sweeps]
    assert [s.returncode for s in sweeps] == [0, 0], [err for _, err in outputs]
    lines = [line for _, err in outputs for line in log_lines(err)]
    assert sorted(line["sweepId"] for line in lines) == [1, 2]
    # Each sweep was compared inside its own write transaction: exactly one of them saw no earlier sweep.
    assert sorted(line["firstSweep"] for line in lines) == [False, True]
    later = next(line for line in lines if not line["firstSweep"])
    assert later["previousVerdict"] == "healthy"
    database = tmp_path / ".infradiag" / "history.sqlite"
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM services").fetchone()[0] == 2 * 9


def test_a_sweep_past_its_deadline_is_recorded_without_a_verdict_and_resolves_nothing(tmp_path: Path) -> None:
    config = staging_config(tmp_path, INCIDENT)
    assert sweep_staging(config).returncode == 1

    late = sweep_staging(config, "--deadline", "1ms")
    assert late.returncode == 3, late.stderr
    [line] = log_lines(late.stderr)
    assert (line["verdict"], line["severity"], line["sweepId"]) == ("unknown", "ERROR", 2)
    assert "deadline" in line["error"]
    assert line["previousVerdict"] == "down"
    assert line["resolvedFindings"] == [] and line["newFindings"] == []  # no verdict: nothing resolved


def test_cloud_run_tasks_split_the_environments(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"alpha": HEALTHY, "bravo": HEALTHY})
    # Sorted names dealt round-robin: task 1 of 2 sweeps bravo only, whatever the argument order.
    result = run_here(
        "sweep", "bravo", "alpha", "--config", str(config), CLOUD_RUN_TASK_INDEX="1", CLOUD_RUN_TASK_COUNT="2"
    )
    assert result.returncode == 0, result.stderr
    [line] = log_lines(result.stderr)
    assert (line["environment"], line["task"]) == ("bravo", {"index": 1, "count": 2})
    assert "alpha" not in result.stdout

    bad = run_here(
        "sweep", "alpha", "--config", str(config), CLOUD_RUN_TASK_INDEX="2", CLOUD_RUN_TASK_COUNT="2"
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "CLOUD_RUN_TASK_INDEX" in bad.stderr


@pytest.mark.process
def test_every_sweeps_again_until_interrupted(tmp_path: Path) -> None:
    config = staging_config(tmp_path, HEALTHY)
    database = tmp_path / ".infradiag" / "history.sqlite"
    with reaped(start_sweep(config, "--every", "100ms")) as loop:
        try:
            # A sweep is committed before its lines are printed: once the third is stored, the first two
            # have printed, wherever the interrupt lands in the third.
            deadline = time.monotonic() + 90
            while sweep_count(database) < 3 and time.monotonic() < deadline and loop.poll() is None:
                time.sleep(0.05)
            assert sweep_count(database) >= 3
        finally:
            loop.send_signal(signal.SIGINT)
            out, err = loop.communicate(timeout=60)
    assert loop.returncode == 0, err
    assert out.count("staging: healthy") >= 2
    assert "no change since the last sweep" in out


def test_a_published_history_seeds_a_fresh_task(tmp_path: Path) -> None:
    history = '[history]\npath = "local/{environment}.sqlite"\npublish_dir = "bucket"\n'
    config = staging_config(tmp_path, HEALTHY, history)
    assert sweep_staging(config).returncode == 0
    published = tmp_path / "bucket" / "staging.sqlite"
    with closing(sqlite3.connect(published)) as db:  # a self-contained file: rollback journal, no WAL
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert db.execute("SELECT verdict FROM sweeps").fetchall() == [("healthy",)]

    (tmp_path / "local" / "staging.sqlite").unlink()  # a new Cloud Run task starts with empty local disk
    result = sweep_staging(config)
    assert result.returncode == 0, result.stderr
    assert "no change since the last sweep" in result.stdout  # it knew the first sweep
    [line] = log_lines(result.stderr)
    assert (line["sweepId"], line["firstSweep"], line["previousVerdict"]) == (2, False, "healthy")
    with closing(sqlite3.connect(published)) as db:
        assert db.execute("SELECT count(*) FROM sweeps").fetchone()[0] == 2


def test_bad_history_settings_are_one_line_usage_errors(tmp_path: Path) -> None:
    config = staging_config(tmp_path, HEALTHY, '[history]\npublish_dir = "bucket"\n')
    result = sweep_staging(config)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert str(config) in result.stderr and "{environment}" in result.stderr

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_text("not a database, just text " * 100)
    result = run_here("history", "staging", "--history", str(garbage))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(garbage) in result.stderr

    missing = run_here("history", "staging", "--history", str(tmp_path / "none.sqlite"))
    assert missing.returncode == 2 and "infradiag sweep staging" in missing.stderr


def test_an_accepted_finding_is_recorded_but_neither_fails_nor_alerts(tmp_path: Path) -> None:
    (tmp_path / "accepted.yaml").write_text(
        "suppressions:\n"
        "  - cause: vpc_connector.saturated\n"
        f"    resource: {CONNECTOR}\n"
        '    reason: "Resize scheduled in INFRA-1234"\n'
        "    expires: 2099-12-31\n"
    )
    config = tmp_path / "infradiag.toml"
    config.write_text(f'[environments.staging]\ntwin = "{INCIDENT}"\nsuppressions = "accepted.yaml"\n')
    result = sweep_staging(config)
    assert result.returncode == 0, result.stderr
    assert "(accepted)" in result.stdout
    [line] = log_lines(result.stderr)
    connector = next(f["id"] for f in line["findings"] if f["cause"] == "vpc_connector.saturated")
    assert connector in line["newFindings"]
    assert (line["counts"]["newP0P1"], line["newP0P1Findings"], line["exitCode"]) == (0, [], 0)
    timeline = json.loads(staging_history(config, "--format", "json").stdout)
    [stored] = [f for f in timeline["sweeps"][0]["findings"] if f["id"] == connector]
    assert stored["suppressed"] is True
