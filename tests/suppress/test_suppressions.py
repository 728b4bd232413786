"""Accepted findings: listed as suppressed with their reason, not counted for verdict or exit code; expired
ones reported; a bad file is one line naming file and line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks
from infradiag.errors import UsageError
from infradiag.suppress import causes_of, load_suppressions
from tests.conftest import ROOT, SCENARIOS, run_cli
from tests.report.schema import assert_valid_report

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
CONNECTOR = "projects/acme-staging/locations/us-central1/connectors/staging-conn"


def suppressions(tmp_path: Path, resource: str = CONNECTOR, expires: str = "2099-12-31") -> Path:
    path = tmp_path / "accepted.yaml"
    path.write_text(
        "# accepted findings\n"
        "suppressions:\n"
        "  - cause: vpc_connector.saturated\n"
        f"    resource: {resource}\n"
        '    reason: "Resize scheduled in INFRA-1234"\n'
        f"    expires: {expires}\n"
    )
    return path


def triage_json(*args: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("triage", "--scenario", str(INCIDENT), "--format", "json", *args)
    report = json.loads(result.stdout)
    assert_valid_report(report)
    return result.returncode, report, result.stderr


def saturated(report: dict[str, Any]) -> dict[str, Any]:
    """The incident's root-cause finding (the report also has a P3 about a missing alert)."""
    [finding] = [f for f in report["findings"] if f["cause"] == "vpc_connector.saturated"]
    return finding


@pytest.mark.parametrize("resource", [CONNECTOR, "projects/acme-staging/*"])
def test_a_suppressed_finding_is_listed_with_its_reason_but_does_not_fail(
    tmp_path: Path, resource: str
) -> None:
    code, report, stderr = triage_json("--suppressions", str(suppressions(tmp_path, resource)))
    assert code == 0, stderr
    assert saturated(report)["suppressed"] == {
        "reason": "Resize scheduled in INFRA-1234",
        "expires": "2099-12-31",
        "source": f"{tmp_path / 'accepted.yaml'}:3",
    }
    assert report["plan"][0]["suppressed"] is True  # the step that resizes the connector
    assert report["verdict"] == "down"  # suppressing a cause never makes a failing probe pass
    assert "expiredSuppressions" not in report


def test_a_suppression_of_another_resource_changes_nothing(tmp_path: Path) -> None:
    code, report, _ = triage_json("--suppressions", str(suppressions(tmp_path, "projects/acme-prod/*")))
    assert code == 1
    assert "suppressed" not in saturated(report)


def test_an_expired_suppression_counts_again_and_is_reported(tmp_path: Path) -> None:
    code, report, stderr = triage_json("--suppressions", str(suppressions(tmp_path, expires="2020-01-31")))
    assert code == 1
    assert "suppressed" not in saturated(report)
    [expired] = report["expiredSuppressions"]
    assert expired["expires"] == "2020-01-31" and expired["cause"] == "vpc_connector.saturated"
    warning = next(line for line in stderr.splitlines() if "expired" in line)
    assert warning.startswith(f"infradiag: warning: {tmp_path / 'accepted.yaml'}:3:")


def test_markdown_and_terminal_mark_the_suppressed_finding(tmp_path: Path) -> None:
    path = str(suppressions(tmp_path))
    markdown = run_cli("triage", "--scenario", str(INCIDENT), "--format", "markdown", "--suppressions", path)
    assert markdown.returncode == 0
    assert "**Suppressed** until 2099-12-31: Resize scheduled in INFRA-1234" in markdown.stdout
    terminal = run_cli("triage", "--scenario", str(INCIDENT), "--suppressions", path)
    assert "suppressed until 2099-12-31: Resize scheduled in INFRA-1234" in terminal.stdout


def test_the_config_names_an_environments_suppressions_file(tmp_path: Path) -> None:
    suppressions(tmp_path)
    config = tmp_path / "infradiag.toml"
    config.write_text(
        f'[environments.staging]\ntwin = "{INCIDENT}"\nsuppressions = "accepted.yaml"  # next to this file\n'
    )
    result = run_cli("gate", "staging", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert saturated(json.loads(result.stdout))["suppressed"]["reason"] == "Resize scheduled in INFRA-1234"


ENTRY = "suppressions:\n  - cause: {cause}\n    resource: x\n    reason: r\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (ENTRY.format(cause="vpc_connector.saturated"), 2, "expires"),
        (ENTRY.format(cause="app.error") + "    expires: 2026-13-01\n", 5, "expires"),
        (ENTRY.format(cause="vpc_conector.saturated") + "    expires: 2026-01-01\n", 2, "unknown cause"),
        (ENTRY.format(cause="app.error") + "    expires: 2026-01-01\n    until: 1\n", 6, "until"),
        ("suppressions:\n  - cause: app.error\n    resource: [x\n", 4, "invalid YAML"),  # noticed at the end
        ("- cause: app.error\n", 1, "suppressions"),
    ],
)
def test_a_bad_file_is_a_usage_error_with_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        load_suppressions(path, causes_of(load_playbooks(PLAYBOOK_DIR)))
    assert caught.value.where == f"{path}:{line}"
    assert words in caught.value.one_line()


def test_the_cli_reports_a_bad_file_in_one_line_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("suppressions:\n  - cause: vpc_connector.saturated\n    expires: tomorrow\n")
    for command in ("triage", "gate"):
        result = run_cli(command, "--scenario", str(INCIDENT), "--suppressions", str(path))
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
        assert f"{path}:" in result.stderr


def test_causes_of_the_bundled_playbooks_include_the_incident() -> None:
    assert "vpc_connector.saturated" in causes_of(load_playbooks(ROOT / "infradiag" / "playbooks"))


def test_a_suppression_applies_through_its_expiry_date(tmp_path: Path) -> None:
    [entry] = load_suppressions(suppressions(tmp_path, expires="2026-09-15"))
    assert not entry.expired_on(date(2026, 9, 15))
    assert entry.expired_on(date(2026, 9, 16))
