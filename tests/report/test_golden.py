"""The on-call's first screen: the bundled incident's terminal report at 80 and 120 columns, with and without
colour, equals its golden file (tests/report/golden.py says how to regenerate them) and keeps, whatever the
goldens say, the root cause, its blast radius and the first command within the first 12 rows and the whole
report within 60."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infradiag.report.model import TriageReport
from tests.conftest import run_cli
from tests.report.golden import FIRST_SCREEN_ROWS, MOST_ROWS, VARIANTS, Variant, incident, rendered, rows

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def report() -> TriageReport:
    return TriageReport.model_validate(incident())


def _assert_first_screen(text: str, width: int, data: dict[str, Any]) -> None:
    screen = rows(text, width)
    first = screen[:FIRST_SCREEN_ROWS]
    lead = data["findings"][0]
    assert lead["priority"] == "P0"
    assert any(lead["title"] in row for row in first), "\n".join(first)
    assert any(f"blast radius: {len(lead['affectedServices'])} " in row for row in first), "\n".join(first)
    # The first command is one line of its own, whole, without a colour code inside it (a copy pastes exactly
    # the JSON's command), and ends within the first screen.
    command = data["plan"][0]["commands"][0]
    assert command in text.split("\n")
    lines = _ANSI.sub("", text).split("\n")
    assert len(rows("\n".join(lines[: lines.index(command) + 1]) + "\n", width)) <= FIRST_SCREEN_ROWS
    assert len(screen) <= MOST_ROWS, f"{len(screen)} rows"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.path.stem)
def test_the_incident_renders_as_its_golden_file(report: TriageReport, variant: Variant) -> None:
    assert rendered(report, variant) == variant.path.read_text(encoding="utf-8")


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.path.stem)
def test_cause_blast_radius_and_first_command_lead_and_the_report_fits(
    report: TriageReport, variant: Variant
) -> None:
    text = rendered(report, variant)
    assert ("\x1b[" in text) == variant.colour
    _assert_first_screen(text, variant.width, incident())


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.path.stem)
def test_the_golden_files_themselves_keep_the_first_screen(variant: Variant) -> None:
    # A regeneration that lost the layout fails here even though it equals what the code renders.
    _assert_first_screen(variant.path.read_text(encoding="utf-8"), variant.width, incident())


def test_a_live_triage_at_80_columns_leads_with_the_cause_and_a_copyable_command() -> None:
    # The real path: collector, diagnosis, report and the CLI's own console, on a terminal of 80 columns.
    data = json.loads(run_cli("triage", "staging", "--format", "json").stdout)
    result = run_cli("triage", "staging", env={"COLUMNS": "80"})
    assert result.returncode == 1, result.stderr
    _assert_first_screen(result.stdout, 80, data)
    assert "as anonymous (twin)" in result.stdout.splitlines()[0]
    # The CPU and instance count the P0 cites are drawn over the window the playbook read, each with the
    # threshold it is judged against: the environment's, and the connector's own maxInstances.
    cpu, instances = [e["series"] for w in data["findings"][0]["why"] for e in w["evidence"] if "series" in e]
    assert cpu["metric"] == "vpcaccess.googleapis.com/connector/cpu/utilizations"
    assert (cpu["threshold"], len(cpu["points"])) == (0.9, 15)
    assert instances["metric"] == "vpcaccess.googleapis.com/connector/instances"
    assert (instances["threshold"], instances["points"]) == (3, [3] * 15)
    assert "p95 per minute: 0.99 -> 0.99; 15/15 at or over 0.90" in result.stdout
    assert "max per minute: 3 -> 3; 15/15 at or over 3" in result.stdout
