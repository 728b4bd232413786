"""A run that did not examine what it was asked to never passes, and bad input is exit 2, not a result.

Each case was a false pass, a wrong exit code or a traceback before (issue 11): driven through the CLI as a
user types it, against twins of the bundled scenarios.
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path

import pytest
import yaml

from tests.cli_process import reaped, start_hung_run, start_infradiag
from tests.conftest import ROOT, SCENARIOS, run_cli

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
HEALTHY = SCENARIOS / "staging-healthy.yaml"


def write_config(folder: Path, table: str) -> Path:
    """An infradiag.toml with one environment `env` whose body is `table`."""
    config = folder / "infradiag.toml"
    config.write_text(f"[environments.env]\n{table}\n", encoding="utf-8")
    return config


def assert_one_line(stderr: str, *fragments: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_a_service_the_config_names_that_does_not_exist_makes_the_run_unknown(tmp_path: Path) -> None:
    config = write_config(tmp_path, f'twin = "{HEALTHY}"\nservices = ["backend", "bakend"]')
    result = run_cli("triage", "env", "--config", str(config), "--format", "json")
    report = json.loads(result.stdout)
    assert (result.returncode, report["verdict"]) == (3, "unknown"), result.stderr
    assert [p["service"] for p in report["probes"]] == ["backend"]
    (missing,) = [u for u in report["unknowns"] if u["reason"] == "NOT_FOUND"]
    assert "'bakend'" in missing["detail"]
    assert "did you mean 'backend'?" in missing["fix"]


def test_a_project_without_a_cloud_run_service_is_unknown(tmp_path: Path) -> None:
    scenario = yaml.safe_load(HEALTHY.read_text(encoding="utf-8"))
    scenario["run"] = {"services": [], "revisions": []}
    scenario["endpoints"] = {}
    scenario.pop("expect", None)
    path = tmp_path / "empty.yaml"
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    result = run_cli("triage", "--scenario", str(path), "--format", "json")
    report = json.loads(result.stdout)
    assert (result.returncode, report["verdict"]) == (3, "unknown"), result.stderr
    assert any("no Cloud Run service" in u.get("detail", "") for u in report["unknowns"])


def test_gate_with_an_empty_playbook_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("gate", "staging", "--playbooks", str(tmp_path))
    assert result.returncode == 2
    assert_one_line(result.stderr, str(tmp_path), "no playbook")


def test_a_down_environment_without_any_finding_never_passes(tmp_path: Path) -> None:
    # One playbook that has nothing to say about a saturated connector: every probe fails, no finding.
    shutil.copy(ROOT / "infradiag" / "playbooks" / "tls-expiry.yaml", tmp_path)
    result = run_cli("gate", "staging", "--playbooks", str(tmp_path), "--format", "json")
    report = json.loads(result.stdout)
    assert (report["verdict"], report["findings"]) == ("down", [])
    assert result.returncode == 1, result.stderr


def test_a_playbook_that_reads_an_undefined_name_is_refused_by_lint_and_triage(tmp_path: Path) -> None:
    source = (ROOT / "infradiag" / "playbooks" / "vpc-connector-saturation.yaml").read_text(encoding="utf-8")
    assert "\nfor_each: connectors\n" in source
    (tmp_path / "saturation.yaml").write_text(
        source.replace("\nfor_each: connectors\n", "\nfor_each: connectorz\n"), encoding="utf-8"
    )
    lint = run_cli("playbooks", "lint", "--dir", str(tmp_path))
    triage = run_cli("triage", "staging", "--playbooks", str(tmp_path))
    for result in (lint, triage):
        assert result.returncode == 2
        assert_one_line(result.stderr, "saturation.yaml:7", "`connectorz`", "did you mean `connectors`?")


@pytest.mark.parametrize(
    ("check", "gives"), [("body.status + 1", "a sum"), ('"ok"', "a string"), ("size(body)", "an int")]
)
def test_a_body_check_that_is_never_true_or_false_is_a_config_error(
    tmp_path: Path, check: str, gives: str
) -> None:
    table = f"twin = \"{HEALTHY}\"\n[environments.env.probes.backend]\nbody_check = '{check}'"
    result = run_cli("triage", "env", "--config", str(write_config(tmp_path, table)))
    assert result.returncode == 2
    assert_one_line(result.stderr, "probes.backend.body_check", f"it gives {gives}")


@pytest.mark.parametrize(
    "command",
    [
        ["triage", "staging", "--deadline", "0"],
        ["gate", "staging", "--deadline", "0s"],
        ["probe", "staging", "--deadline", "0ms"],
        ["sweep", "staging", "--deadline", "0"],
        ["gate", "staging", "--interval", "0"],
        ["triage", "staging", "--deadline", "99999999999999h"],
    ],
)
def test_a_deadline_or_interval_out_of_range_is_a_usage_error_everywhere(command: list[str]) -> None:
    result = run_cli(*command)
    assert result.returncode == 2
    assert_one_line(result.stderr, command[-2])


def test_an_environment_and_a_scenario_together_are_refused() -> None:
    result = run_cli("triage", "staging", "--scenario", str(HEALTHY))
    assert result.returncode == 2
    assert_one_line(result.stderr, "--scenario", "'staging'")


@pytest.mark.parametrize(
    "command", [["playbooks", "list"], ["triage", "--scenario", str(HEALTHY), "--format", "json", "-q"]]
)
@pytest.mark.process
def test_output_on_a_full_disk_is_one_line_and_exit_3(command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        process = start_infradiag(*command, stdout=full)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 3
    assert_one_line(stderr, "cannot write the output", "No space left on device")


@pytest.mark.process
def test_a_report_to_a_closed_pipe_is_one_line_and_exit_3_never_the_verdicts_code() -> None:
    """A healthy verdict nobody could read is no pass; and Typer must not take the broken pipe for its own
    (it exits 1, silently)."""
    process = start_infradiag("triage", "--scenario", str(HEALTHY), "--format", "json")
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader went away: writing gets EPIPE
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 3
    assert_one_line(stderr, "cannot write the output", "Broken pipe")


@pytest.mark.process
def test_ctrl_c_during_a_triage_says_so_in_one_line_and_exits_130(tmp_path: Path) -> None:
    with reaped(start_hung_run(tmp_path)) as process:  # the triage waits on backend until its deadline
        time.sleep(3)  # past start-up, inside the command: the twin up, the probes waiting
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert out == ""
    assert_one_line(err, "infradiag: interrupted")


BROKEN_PLAYBOOK = """\
id: broken
title: Fails on every connector, on purpose
for_each: connectors
as: c
tree:
  question: "Is {c.name} a number?"
  when: int(c.name) > 0
  answer: "it is"
  cause: vpc_connector.saturated
  title: "never concluded"
  resource: c.name
  affected: "[]"
  priority: [{level: P2}]
  remediation: {summary: "none"}
"""


def test_a_playbook_that_fails_on_the_evidence_is_an_unknown_not_silence(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN_PLAYBOOK, encoding="utf-8")
    result = run_cli("triage", "staging-healthy", "--playbooks", str(tmp_path), "--format", "json")
    report = json.loads(result.stdout)
    (unknown,) = report["unknowns"]
    assert (unknown["source"], unknown["reason"]) == ("playbook", "EVALUATION_FAILED")
    assert "vpc_connector.saturated" in unknown["consequence"]
    assert "not an integer" in unknown["detail"]
    assert report["verdict"] != "healthy"
    assert result.returncode == 3, result.stderr
