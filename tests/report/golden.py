"""Golden terminal reports of the bundled incident, at 80 and 120 columns, without and with colour.

The report is a fixed capture of `infradiag triage staging --format json` (golden/staging.json), so probe
latencies and the run's duration cannot make the goldens flaky; the views are rendered from it on the console
the CLI uses (report/output.py), set up by the environment variables a user's shell would give it.

    ./dev python -m tests.report.golden --write      # re-render the goldens from golden/staging.json
    ./dev python -m tests.report.golden --capture    # triage the twin again into staging.json, then --write

tests/report/test_golden.py compares the renderings with these files and checks the on-call properties on
every rendering (root cause, blast radius and first command within the first 12 rows, the whole report within
60), so a regeneration cannot hide a regression.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.cells import cell_len

from infradiag.report.model import TriageReport
from infradiag.report.output import terminal_console
from infradiag.report.terminal import render
from tests.conftest import environment_set

GOLDEN = Path(__file__).parent / "golden"
INCIDENT = GOLDEN / "staging.json"
FIRST_SCREEN_ROWS = 12
MOST_ROWS = 60
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Variant:
    """One way a user's terminal shows the report."""

    width: int
    colour: bool

    @property
    def path(self) -> Path:
        """The golden file of this variant."""
        return GOLDEN / f"staging-{self.width}-{'colour' if self.colour else 'no-colour'}.txt"

    @property
    def environment(self) -> dict[str, str | None]:
        """What the shell sets: the width, and NO_COLOR or a colour terminal forced on a pipe."""
        colour: dict[str, str | None] = {"NO_COLOR": None, "FORCE_COLOR": "1", "TERM": "xterm-256color"}
        plain: dict[str, str | None] = {"NO_COLOR": "1", "FORCE_COLOR": None, "TERM": "dumb"}
        return {"COLUMNS": str(self.width), "COLORTERM": None, **(colour if self.colour else plain)}


VARIANTS = tuple(Variant(width, colour) for width in (80, 120) for colour in (False, True))


def incident() -> dict[str, Any]:
    """The captured JSON report of the bundled incident."""
    data: dict[str, Any] = json.loads(INCIDENT.read_text(encoding="utf-8"))
    return data


def rendered(report: TriageReport, variant: Variant) -> str:
    """The terminal report as the CLI prints it in this variant's terminal."""
    out = io.StringIO()
    with environment_set(variant.environment):
        render(report, terminal_console(out))
    return out.getvalue()


def rows(text: str, width: int) -> list[str]:
    """The screen rows `text` takes at `width` columns, colour codes removed: a line longer than the width
    (a command printed whole, for copying) takes as many rows as the terminal wraps it to."""
    out = []
    for line in _ANSI.sub("", text).split("\n")[:-1]:
        out += [line] * max(1, math.ceil(cell_len(line) / width))
    return out


def _capture() -> None:
    from tests.conftest import run_cli

    result = run_cli("triage", "staging", "--format", "json")
    if result.returncode != 1:
        raise SystemExit(f"triage staging exited {result.returncode}, not 1 (a P0 stands): {result.stderr}")
    data = json.loads(result.stdout)
    data["durationMs"] = 1500  # the run's own time would change the goldens at every capture
    INCIDENT.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    """Write the goldens (and, with --capture, the incident's report first)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="re-render every golden file")
    parser.add_argument("--capture", action="store_true", help="triage the twin into staging.json first")
    args = parser.parse_args()
    if not (args.write or args.capture):
        parser.error("nothing to do: pass --write or --capture")
    if args.capture:
        _capture()
    report = TriageReport.model_validate(incident())
    for variant in VARIANTS:
        variant.path.write_text(rendered(report, variant), encoding="utf-8")
        print(f"wrote {variant.path}")


if __name__ == "__main__":
    main()
