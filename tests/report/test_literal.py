"""Outside text on a terminal: shown as it is, never markup, with control characters made visible."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from infradiag.report.literal import literal, visible
from infradiag.report.model import (
    ReportEvidence,
    ReportFinding,
    ReportPlanStep,
    ReportRemediation,
    ReportWhy,
)
from infradiag.report.progress import Status
from infradiag.report.terminal import render
from tests.report.reports import degraded_report

MARKUP = "[bold]x[/bold] [/] [link=http://x]y[/link] [private-project] :thumbs_up: \\ C:\\temp é 日本 🚀"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),  # ESC: clears the screen
        ("a\rb", "a\\rb"),  # carriage return: overwrites the line
        ("\x00", "\\x00"),
        ("\x07", "\\x07"),  # bell
        ("\x08\x0b\x0c\x1f\x7f", "\\x08\\x0b\\x0c\\x1f\\x7f"),
        ("\x85\x9b31m", "\\x85\\x9b31m"),  # C1: NEL, and CSI (a one-byte ESC [ on some terminals)
        ("abc\u202edef", "abc\\u202edef"),  # right-to-left override: shows "abcfed"
        ("\u2066\u2069\u200e\u200f\u061c", "\\u2066\\u2069\\u200e\\u200f\\u061c"),
        ("\u2028\u2029", "\\u2028\\u2029"),
        ("\ud800", "\\ud800"),  # a lone surrogate cannot even be encoded as UTF-8
        ("\ufffe\uffff", "\\ufffe\\uffff"),
        ("line\n\ttab", "line\n\ttab"),  # newline and tab are text
        (MARKUP, MARKUP),
    ],
)
def test_visible_escapes_only_what_would_act_on_the_terminal(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_one_line_also_escapes_newlines() -> None:
    assert visible("a\nb\r\n\tc", one_line=True) == "a\\nb\\r\\n\tc"


def recorder() -> Console:
    return Console(file=io.StringIO(), width=400, color_system=None, force_terminal=False)


def test_literal_prints_markup_and_emoji_codes_as_text() -> None:
    console = recorder()
    console.print(literal(MARKUP + " \x1b[31mred\r", "bold"))
    assert console.file.getvalue() == MARKUP + " \\x1b[31mred\\r\n"  # type: ignore[attr-defined]


def test_status_lines_show_messages_literally() -> None:
    console = recorder()
    status = Status(console=console)
    status.note("note [/] \x1b[2J")
    status.warn("warn [/bold] \x07")
    status.error("error [link=x] \r")
    assert console.file.getvalue().splitlines() == [  # type: ignore[attr-defined]
        "note [/] \\x1b[2J",
        "infradiag: warning: warn [/bold] \\x07",
        "infradiag: error [link=x] \\r",
    ]


def test_live_progress_takes_markup_in_task_descriptions_as_text() -> None:
    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system=None)
    with Status(console=console) as status:
        task = status.task("triage x[/] \x1b[2J")
        status.update(task, description="gate [/bold]: attempt 2")
        status._progress.refresh()  # type: ignore[union-attr]
    assert "gate [/bold]: attempt 2" in console.file.getvalue()  # type: ignore[attr-defined]


def test_terminal_report_encodes_any_text_as_utf8(tmp_path: Path) -> None:
    # A lone surrogate (a JSON body may escape one) is no UTF-8 character: writing it raw would crash.
    hostile = "down \ud800 [/] \x1b[2J\u202e"
    finding = ReportFinding(
        id="f1",
        cause="app.dependency_failing",
        priority="P1",
        title=f"backend reports {hostile}",
        resources=["projects/p/locations/r/services/backend"],
        affected_services=["backend"],
        why=[
            ReportWhy(
                question="Why?", answer=hostile, evidence=[ReportEvidence(source="probe", detail=hostile)]
            )
        ],
        remediation=ReportRemediation(summary=f"Check {hostile}", commands=[]),
        confidence=0.6,
    )
    report = degraded_report(
        findings=[finding],
        plan=[
            ReportPlanStep(
                rank=1,
                priority="P1",
                action="Check\n# the body",
                findings=["f1"],
                blast_radius=1,
                commands=["echo 'down\nrm -rf ~'"],
            )
        ],
    )
    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8") as out:
        render(report, Console(file=out, width=400, color_system=None))
    text = path.read_text(encoding="utf-8")
    assert "backend reports down \\ud800 [/] \\x1b[2J\\u202e" in text
    assert "\x1b" not in text
    # A command is one line to paste: a newline from outside text must not start a second command.
    lines = text.splitlines()
    assert "# 1. Check\\n# the body" in lines
    assert "echo 'down\\nrm -rf ~'" in lines
    assert not [line for line in lines if line.startswith("rm -rf")]
