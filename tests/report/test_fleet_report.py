"""A fleet-wide outage (1000 services, 2000 findings, 2000 plan steps) reads on a screen or two: alike
findings, probes and steps folded with their services, a long API message shown once (the time is
bench/report_scale.py's figure, not an assertion here)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from infradiag.report.markdown import render_markdown
from infradiag.report.model import TriageReport
from infradiag.report.terminal import render
from tests.report.fleet import connector_outage, fleet_outage, message
from tests.report.golden import rows
from tests.report.test_markdown import fences, tables


@pytest.fixture(scope="module")
def fleet() -> TriageReport:
    return fleet_outage(1000)


@pytest.fixture(scope="module")
def terminal(fleet: TriageReport) -> str:
    out = io.StringIO()
    render(fleet, Console(file=out, width=80, color_system=None))
    return out.getvalue()


def test_a_1000_service_outage_takes_under_200_rows_at_80_columns(fleet: TriageReport, terminal: str) -> None:
    assert len(fleet.findings) == len(fleet.plan) == 2000
    assert len(rows(terminal, 80)) < 200
    lines = terminal.splitlines()
    assert lines[2].endswith("The newest revision of svc-0000 is not ready (and 999 more alike)")
    assert "blast radius: 1000 of 1000 probed service(s)" in lines[3]
    assert "... and 988 more" in terminal
    assert fleet.plan[0].commands[0] in lines  # the first command, whole, to copy
    assert (
        "# ... and 999 more step(s) alike, one per service: steps 2-1000 in --format json or markdown"
        in lines
    )


def test_probes_that_failed_alike_are_one_line_with_their_count(terminal: str) -> None:
    [probe_line] = [line for line in terminal.splitlines() if line.startswith("  ✗ ")]
    assert probe_line.startswith("  ✗ 503 from the Google Front End: no ready instance or revision")
    assert "1000: svc-0000, svc-0001" in terminal


def test_a_long_api_message_is_shown_once_then_pointed_to(terminal: str) -> None:
    flat = re.sub(r"\s+", " ", terminal)  # as read, the screen's wrapping aside
    said = message("svc-0000")
    assert said[:200] in flat
    assert flat.count("Revision 'svc-0000-00042-abc' is not ready and cannot serve traffic") == 1
    assert "(+" in flat and "characters in --format json)" in flat  # folded: the JSON has it whole
    assert "[run] condition Ready: CONDITION_FAILED: (the message above)" in terminal
    assert "# 1. Fix the failing revision of svc-0000 (the message above) and redeploy" in terminal


def test_the_markdown_of_the_outage_folds_alike_findings_probes_and_steps(fleet: TriageReport) -> None:
    markdown = render_markdown(fleet)
    assert markdown.count("\n") < 200
    assert (
        "**Root cause (P0):** The newest revision of svc-0000 is not ready (and 999 more alike) · blast"
        in markdown
    )
    probe_table, plan_table = tables(markdown)
    assert probe_table[0] == ["path", "outcome", "status", "probes", "services", "detail"]
    assert [row[3] for row in probe_table[1:]] == ["1000"]
    assert [row[0] for row in plan_table[1:]] == ["1-1000", "1001-2000"]
    assert len(fences(markdown, "mermaid")) == 2
    assert fences(markdown, "sh") == [fleet.plan[0].commands[0], fleet.plan[1000].commands[0]]
    assert "Steps 2-1000 are alike, one per service: their commands are in `--format json`." in markdown


def test_a_cause_behind_1000_services_cites_their_probes_once_in_each_view() -> None:
    report = connector_outage(1000)
    out = io.StringIO()
    render(report, Console(file=out, width=80, color_system=None))
    terminal = out.getvalue()
    assert len(rows(terminal, 80)) < 40
    assert "1000 of 1000 probed services fail: the 1000 services above [probe: 1000, see Probes]" in re.sub(
        r"\s+", " ", terminal
    )
    assert "svc-0500" not in terminal  # the list is folded everywhere
    markdown = render_markdown(report)
    assert markdown.count("\n") < 200
    assert "   - probe: 1000 probes, as in the Probes table" in markdown
