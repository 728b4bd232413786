"""How the terminal and Markdown views scale with a fleet-wide outage (tests/report/fleet.py): every service
down alike, two findings and two plan steps per service; and every service starved by one connector, one
finding citing every probe. Rendered at 80 columns without colour.

Prints, per size, the rendering time (best of the runs), the lines and screen rows it takes, and the ratio of
the time to the budget (issue 17: a 1000-service outage renders in under 1 s; ratio at most 1.0).

    .venv/bin/python bench/report_scale.py                  # 100, 1000 services, 3 runs each
    .venv/bin/python bench/report_scale.py --sizes 5000 --runs 1
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_S = 1.0  # for 1000 services


def main() -> None:
    """Render the outage at each size and print the figures."""
    from rich.console import Console

    from infradiag.report.markdown import render_markdown
    from infradiag.report.terminal import render
    from tests.report.fleet import connector_outage, fleet_outage
    from tests.report.golden import rows

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cases = [(f"{size} services down alike", fleet_outage(size), size) for size in args.sizes]
    cases += [(f"{size} services behind one connector", connector_outage(size), size) for size in args.sizes]
    for label, report, size in cases:
        terminal: list[float] = []
        markdown: list[float] = []
        text = ""
        for _ in range(args.runs):
            out = io.StringIO()
            start = time.perf_counter()
            render(report, Console(file=out, width=80, color_system=None))
            terminal.append(time.perf_counter() - start)
            text = out.getvalue()
            start = time.perf_counter()
            document = render_markdown(report)
            markdown.append(time.perf_counter() - start)
        budget = BUDGET_S * size / 1000
        print(
            f"{label}, {len(report.findings)} finding(s): terminal {min(terminal):.3f} s"
            f" ({text.count(chr(10))} lines, {len(rows(text, 80))} rows at 80 columns),"
            f" markdown {min(markdown):.3f} s ({document.count(chr(10))} lines);"
            f" ratio to {budget:.2f} s: {min(terminal) / budget:.2f} terminal,"
            f" {min(markdown) / budget:.2f} markdown"
        )


if __name__ == "__main__":
    main()
