"""`--format`: one set of output formats (commands.common.Format); each command offers the ones it writes,
lists them in its help, and refuses any other as a usage error (exit 2) before doing anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from infradiag.cli import app
from tests.conftest import SCENARIOS

HEALTHY = str(SCENARIOS / "staging-healthy.yaml")
OFFERED = {
    ("triage",): "[terminal|json|markdown]",
    ("gate",): "[terminal|json|markdown]",
    ("probe",): "[terminal|json]",
    ("history",): "[terminal|json]",
    ("twin", "serve"): "[terminal|json]",
}


@pytest.mark.parametrize(("command", "choices"), OFFERED.items())
def test_each_command_lists_the_formats_it_writes(command: tuple[str, ...], choices: str) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert choices in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["probe", "--scenario", HEALTHY, "--format", "markdown"],
        ["history", "staging", "--format", "markdown"],
        ["twin", "serve", HEALTHY, "--format", "markdown"],
        ["triage", "--scenario", HEALTHY, "--format", "xml"],
    ],
)
def test_a_format_the_command_does_not_write_is_a_usage_error(args: list[str]) -> None:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "is not one of 'terminal', 'json'" in result.output
