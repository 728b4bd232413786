"""Print a report on standard output in the format asked for; nothing else ever goes there."""

from __future__ import annotations

import json
import sys

from rich.console import Console

from infradiag.report.model import TriageReport


def print_report(report: TriageReport, output: str) -> None:
    """`report` on stdout as `terminal` (rich), `json` (the v1 object) or `markdown`."""
    if output == "json":
        sys.stdout.write(json.dumps(report.to_json_dict(), indent=2) + "\n")
    elif output == "markdown":
        from infradiag.report.markdown import render_markdown

        sys.stdout.write(render_markdown(report))
    else:
        from infradiag.report.terminal import render

        render(report, Console())
    sys.stdout.flush()
