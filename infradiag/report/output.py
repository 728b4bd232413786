"""Print a report on standard output in the format asked for; nothing else ever goes there."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console

from infradiag.report.model import TriageReport


def terminal_console(file: TextIO | None = None) -> Console:
    """The console the terminal report is printed on: its width from COLUMNS or the terminal, colour as
    NO_COLOR, FORCE_COLOR and TERM say (rich reads them), never the emoji codes or highlighting of rich's
    defaults (report text is literal)."""
    return Console(file=file, emoji=False, highlight=False)


def print_report(report: TriageReport, output: str) -> None:
    """`report` on stdout as `terminal` (rich), `json` (the v1 object) or `markdown`."""
    if output == "json":
        from infradiag.report.jsontext import dumps_indented

        sys.stdout.write(dumps_indented(report.to_json_dict()) + "\n")
    elif output == "markdown":
        from infradiag.report.markdown import render_markdown

        sys.stdout.write(render_markdown(report))
    else:
        from infradiag.report.terminal import render

        render(report, terminal_console())
    sys.stdout.flush()
