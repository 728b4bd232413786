"""Every scenario under scenarios/ is triaged end to end and its `expect` block holds."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from infradiag.twin.expectations import unmet
from infradiag.twin.scenario import load_scenario
from tests.conftest import SCENARIOS, run_cli
from tests.report.schema import assert_valid_report

ALL = sorted(SCENARIOS.glob("*.yaml"))
CONFIG = SCENARIOS.parent / "infradiag.toml"
# A scenario that the bundled infradiag.toml runs as an environment is triaged through it, as a user would
# (`infradiag triage NAME`), with that environment's probe settings (e.g. a custom domain to probe).
ENVIRONMENT_OF = {
    (SCENARIOS.parent / table["twin"]).resolve(): name
    for name, table in tomllib.loads(CONFIG.read_text())["environments"].items()
    if "twin" in table
}


def test_there_are_scenarios() -> None:
    assert len(ALL) >= 2


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_scenario_expectation_holds(path: Path) -> None:
    scenario = load_scenario(path)
    environment = ENVIRONMENT_OF.get(path.resolve())
    how = ["--config", str(CONFIG), environment] if environment else ["--scenario", str(path)]
    result = run_cli("triage", *how, "--format", "json", "--fail-on", "P3")
    assert result.returncode in (0, 1, 3), result.stderr
    report = json.loads(result.stdout)
    assert_valid_report(report)  # the v1 JSON Schema shipped in the package
    if scenario.expect is not None:
        assert unmet(scenario.expect, report) == []
