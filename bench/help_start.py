"""How long `infradiag --help` takes against a bare interpreter start: issue 16 asks for at most
2 x `python -c pass` + 100 ms (it was 171 ms against 24 ms while Typer's Rich help imported Rich).

Each run is a fresh process of this venv's interpreter, timed from fork to exit (wall clock), the runs of the
two commands interleaved so that a busy machine weighs on both alike; the medians are compared. It prints
both medians, the ratio, the budget and whether it holds, then the same for each command's `--help`. The CPU
time (user + system) of each process is printed beside: on a machine busy with other work the wall clock
waits for a core and the CPU time much less, so it tells the cost when the wall clock cannot.

    .venv/bin/python bench/help_start.py            # 21 runs each
    .venv/bin/python bench/help_start.py --runs 51

Nothing here is asserted: a machine shared with other work gives noisy figures; measure on a quiet one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = [sys.executable, "-c", "pass"]
HELP = [sys.executable, "-m", "infradiag", "--help"]
COMMANDS = ["triage", "gate", "probe", "sweep", "history", "twin serve", "playbooks show"]


@dataclass(frozen=True)
class Timing:
    """Median seconds of a command's runs: wall clock and CPU (user + system)."""

    wall_s: float
    cpu_s: float


def run_once(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `argv`, from start to exit; a non-zero exit fails the benchmark."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, argv)
    return wall, usage.ru_utime + usage.ru_stime


def timings(first: list[str], second: list[str], runs: int) -> tuple[Timing, Timing]:
    """Median timing of each command over `runs` interleaved runs, after one warm-up run of each (the page
    cache and .pyc files, as on any machine where the tool was run before)."""
    run_once(first)
    run_once(second)
    a, b = [], []
    for _ in range(runs):
        a.append(run_once(first))
        b.append(run_once(second))

    def median(samples: list[tuple[float, float]]) -> Timing:
        return Timing(statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples))

    return median(a), median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs

    bare, help_ = timings(BARE, HELP, runs)
    budget = 2 * bare.wall_s + 0.100
    verdict = "within" if help_.wall_s <= budget else "OVER"
    print(
        f"python -c pass      {bare.wall_s * 1000:7.1f} ms wall, {bare.cpu_s * 1000:6.1f} ms CPU "
        f"(median of {runs})"
    )
    print(
        f"infradiag --help    {help_.wall_s * 1000:7.1f} ms wall, {help_.cpu_s * 1000:6.1f} ms CPU "
        f"= {help_.wall_s / bare.wall_s:.1f} x bare (CPU: {help_.cpu_s / bare.cpu_s:.1f} x)"
    )
    print(
        f"budget 2 x bare + 100 ms = {budget * 1000:.1f} ms: {verdict} "
        f"({(budget - help_.wall_s) * 1000:+.1f} ms); in CPU time: "
        f"{(2 * bare.cpu_s + 0.100) * 1000:.1f} ms against {help_.cpu_s * 1000:.1f} ms"
    )
    for command in COMMANDS:
        _, sub = timings(BARE, [*HELP[:-1], *command.split(), "--help"], max(5, runs // 4))
        print(
            f"infradiag {command + ' --help':22} {sub.wall_s * 1000:7.1f} ms wall, "
            f"{sub.cpu_s * 1000:6.1f} ms CPU"
        )


if __name__ == "__main__":
    main()
