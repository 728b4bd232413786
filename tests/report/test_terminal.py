"""The terminal view's layout rules that the golden incident does not exercise: wrapping that loses nothing,
follow-up steps named rather than printed, several probe paths."""

from __future__ import annotations

import io
import re

from rich.console import Console

from infradiag.report.model import (
    ReportEvidence,
    ReportFinding,
    ReportPlanStep,
    ReportRemediation,
    ReportUnknown,
    ReportWhy,
    TriageReport,
)
from infradiag.report.terminal import render
from tests.report.reports import degraded_report, failing_probe

WORDS = "alpha\tbeta [bold]gamma[/bold]\ndelta " + " ".join(f"word{n}" for n in range(25))  # under the fold


def _shown(report: TriageReport, width: int = 40) -> str:
    out = io.StringIO()
    render(report, Console(file=out, width=width, color_system=None))
    return out.getvalue()


def _finding(cause: str, priority: str, answer: str = "because") -> ReportFinding:
    return ReportFinding(
        id=cause,
        cause=cause,
        priority=priority,  # type: ignore[arg-type]
        title=f"{cause} is broken",
        resources=[f"projects/p/things/{cause}"],
        affected_services=["a"],
        why=[
            ReportWhy(question="Why?", answer=answer, evidence=[ReportEvidence(source="run", detail=answer)])
        ],
        remediation=ReportRemediation(summary=f"fix {cause}", commands=[f"gcloud fix {cause} --project p"]),
        confidence=0.8,
    )


def _step(rank: int, cause: str, priority: str) -> ReportPlanStep:
    return ReportPlanStep(
        rank=rank,
        priority=priority,  # type: ignore[arg-type]
        action=f"fix {cause}",
        findings=[cause],
        blast_radius=1,
        commands=[f"gcloud fix {cause} --project p"],
    )


def test_wrapped_outside_text_keeps_every_word_at_any_width() -> None:
    report = degraded_report(findings=[_finding("x.y", "P1", WORDS)], plan=[_step(1, "x.y", "P1")])
    for width in (40, 80, 120):
        words = re.sub(r"\s+", " ", _shown(report, width))
        for word in WORDS.split():
            assert word in words, (width, word)
        assert "[bold]gamma[/bold]" in words  # markup from outside stays text


def test_a_follow_up_steps_command_is_named_and_the_outages_printed() -> None:
    findings = [_finding("outage", "P1"), _finding("alerts", "P3")]
    plan = [_step(1, "outage", "P1"), _step(2, "alerts", "P3")]
    lines = _shown(degraded_report(findings=findings, plan=plan), 120).splitlines()
    assert lines.count("gcloud fix outage --project p") == 1  # at the top, as the first command
    assert "# command: the first command, at the top" in lines
    assert "gcloud fix alerts --project p" not in lines
    assert lines[lines.index("# 2. fix alerts") + 1] == "# command and terraform: --format markdown or json"


def test_the_most_urgent_step_prints_its_command_even_when_it_is_a_follow_up() -> None:
    lines = _shown(
        degraded_report(findings=[_finding("alerts", "P3")], plan=[_step(1, "alerts", "P3")])
    ).split("\n")
    assert "gcloud fix alerts --project p" in lines


def test_probes_of_several_paths_name_their_path() -> None:
    probes = [failing_probe("a", "500 after 3 ms"), failing_probe("a", "500 after 3 ms", path="/ready")]
    shown = _shown(degraded_report(probes=probes), 80)
    assert "Probes\n" in shown
    assert "✗ /health 500" in shown
    assert "✗ /ready 500" in shown
    single = _shown(degraded_report(probes=probes[:1]), 80)
    assert "Probes of /health\n" in single


def test_what_could_not_be_checked_is_counted_up_top_and_its_fix_pastes_whole() -> None:
    fix = "enable the API: gcloud services enable compute.googleapis.com --project acme-staging-long-name"
    unknown = ReportUnknown(
        source="compute", reason="SERVICE_DISABLED", fix=fix, consequence="firewall rules could not be read"
    )
    lines = _shown(degraded_report(unknowns=[unknown]), 80).splitlines()
    assert "; 1 source(s) not checked; " in lines[1]
    assert f"    fix: {fix}" in lines  # one line, however wide: the command inside it copies whole
