"""Every scenario under scenarios/ is triaged end to end and its `expect` block holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infradiag.twin.expectations import unmet
from infradiag.twin.scenario import load_scenario
from tests.report.schema import assert_valid_report
from tests.scenario_triage import ALL, group, triage


def expected_exit_code(report: dict[str, Any]) -> int:
    """The exit code README "Exit codes" gives this report under `--fail-on P3`: 3 for an unknown verdict;
    else 1 for any unaccepted finding, or a failing probe or a service without a URL that no accepted finding
    covers; else 3 while evidence is missing; else 0."""
    if report["verdict"] == "unknown":
        return 3
    if any("suppressed" not in f for f in report["findings"]):
        return 1
    accepted = {s for f in report["findings"] for s in f["affectedServices"]}
    failing = {p["service"] for p in report["probes"] if not p["ok"]}
    if (failing | set(report.get("servicesWithoutUrl") or [])) - accepted:
        return 1
    return 3 if report["unknowns"] else 0


def test_there_are_scenarios() -> None:
    assert len(ALL) >= 2


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=group(p)) for p in ALL])
def test_scenario_expectation_holds(path: Path) -> None:
    scenario = load_scenario(path)
    result = triage(path)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    assert_valid_report(report)  # the v1 JSON Schema shipped in the package
    assert result.returncode == expected_exit_code(report), result.stderr
    if scenario.expect is not None:
        assert unmet(scenario.expect, report) == []
