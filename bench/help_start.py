"""How long `infradiag --help` takes against a bare interpreter start: issue 16 asks for at most
2 x `python -c pass` + 100 ms (it was 171 ms against 24 ms while Typer's Rich help imported Rich).

Each run is a fresh process of this venv's interpreter, timed from fork to exit (wall clock), the runs of the
two commands interleaved so that a busy machine weighs on both alike; the medians are compared. It prints
both medians, the ratio, the budget and whether it holds, then the same for each command's `--help`.

    .venv/bin/python bench/help_start.py            # 21 runs each
    .venv/bin/python bench/help_start.py --runs 51

Nothing here is asserted: a machine shared with other work gives noisy figures; measure on a quiet one.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = [sys.executable, "-c", "pass"]
HELP = [sys.executable, "-m", "infradiag", "--help"]
COMMANDS = ["triage", "gate", "probe", "sweep", "history", "twin serve", "playbooks show"]


def wall_s(argv: list[str]) -> float:
    """Seconds from starting `argv` to its exit; a non-zero exit fails the benchmark."""
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def medians(first: list[str], second: list[str], runs: int) -> tuple[float, float]:
    """Median wall time of each command over `runs` interleaved runs, after one warm-up run of each (the
    page cache and .pyc files, as on any machine where the tool was run before)."""
    wall_s(first)
    wall_s(second)
    a, b = [], []
    for _ in range(runs):
        a.append(wall_s(first))
        b.append(wall_s(second))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs

    bare, help_s = medians(BARE, HELP, runs)
    budget = 2 * bare + 0.100
    verdict = "within" if help_s <= budget else "OVER"
    print(f"python -c pass      {bare * 1000:7.1f} ms (median of {runs})")
    print(f"infradiag --help    {help_s * 1000:7.1f} ms = {help_s / bare:.1f} x bare")
    print(
        f"budget 2 x bare + 100 ms = {budget * 1000:.1f} ms: {verdict} ({(budget - help_s) * 1000:+.1f} ms)"
    )
    for command in COMMANDS:
        _, sub_s = medians(BARE, [*HELP[:-1], *command.split(), "--help"], max(5, runs // 4))
        print(f"infradiag {command + ' --help':22} {sub_s * 1000:7.1f} ms = {sub_s / bare:.1f} x bare")


if __name__ == "__main__":
    main()
