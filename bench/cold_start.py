"""Cold and warm triages side by side, as on-call runs them: a fresh `infradiag triage ENV` process.

For each fleet size the twin of bench/triage_scale.py (endpoints 300 ms, API calls 200 ms) is served from a
process of its own, and `infradiag triage scale --config FILE --format json` runs against it in a fresh
interpreter (`--runs` times). The bound of a cold run is the interpreter's own start-up (`python -c pass`,
measured here) plus the critical path (ListServices pages, then the slowest probe); warm triages (the same
process triaging again, as `sweep --every` does) come from bench/triage_scale.py against the bound alone.

Per size it prints: cold wall time and its ratio to the bound, warm wall time and ratio, the peak RSS of the
triage process, of its probe process and of its environment process (and their sum), and the probe
self-stall: how much each probe's latency exceeds the endpoint's delay (p50, p99, max), cold and warm, and the
largest gap between a probe's total and the sum of its phases (time no phase accounts for).

    .venv/bin/python bench/cold_start.py                           # 10, 200 and 500 services
    .venv/bin/python bench/cold_start.py --sizes 200 --runs 5

Nothing here is asserted: the figures are for the README (targets in issue 16: cold <= 2.5 x bound and
self-stall p99 <= 25 ms at 200 services, peak RSS <= 200 MiB at 500, warm <= 1.3 x bound).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import triage_scale  # noqa: E402

# Runs `infradiag ARGS` in this fresh interpreter through the console script's entry point, then reports the
# peak RSS and the CPU time of this process and of its two children (read from /proc while they still run)
# on the file descriptor named by INFRADIAG_BENCH_FD.
DRIVER = """
import atexit, json, os, resource, sys
def peak_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None
def cpu_ms(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
def report():
    from infradiag.collect import environment_process
    from infradiag.probe import process
    probe, environment = process.child_pid(), environment_process.child_pid()
    own = resource.getrusage(resource.RUSAGE_SELF)
    with os.fdopen(int(os.environ["INFRADIAG_BENCH_FD"]), "w") as out:
        json.dump({"rss_kib": own.ru_maxrss,
                   "probe_rss_kib": peak_kib(probe) if probe else None,
                   "environment_rss_kib": peak_kib(environment) if environment else None,
                   "cpu_ms": (own.ru_utime + own.ru_stime) * 1000,
                   "probe_cpu_ms": cpu_ms(probe) if probe else None,
                   "environment_cpu_ms": cpu_ms(environment) if environment else None}, out)
# Exit handlers run last-registered first: registered after the modules that register the children's
# closing (at their import, which costs next to nothing), the report reads /proc while the children still run.
import infradiag.collect.environment_process, infradiag.probe.process
atexit.register(report)
sys.argv = ["infradiag", *sys.argv[1:]]
from infradiag.cli import script
script()
"""


def python_startup_ms(runs: int = 7) -> float:
    """Median wall time of `python -c pass` with this interpreter."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def cold_runs(size: int, runs: int) -> dict[str, Any]:
    """`runs` fresh triage processes against one twin of `size` services in its own process."""
    raw = triage_scale.scenario(size)
    parent, child = multiprocessing.Pipe()
    twin = multiprocessing.get_context("spawn").Process(
        target=triage_scale._serve_twin, args=(raw, child), daemon=True
    )
    twin.start()
    walls: list[float] = []
    peaks: list[tuple[int, int | None]] = []
    cpus: list[tuple[float, float, float]] = []  # CPU ms of the triage, probe and environment processes
    stalls: list[float] = []
    unaccounted: list[float] = []
    try:
        rest, grpc = parent.recv()
        with tempfile.TemporaryDirectory(prefix="infradiag-cold-") as folder:
            config = Path(folder) / "infradiag.toml"
            config.write_text(
                f'[environments.scale]\nproject = "{triage_scale.PROJECT}"\n'
                f'region = "{triage_scale.REGION}"\n'
                f'api_endpoint = "{rest}"\nmonitoring_endpoint = "{grpc}"\nnow = "{raw["now"]}"\n'
            )
            for _ in range(runs):
                read, write = os.pipe()
                started = time.perf_counter()
                done = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        DRIVER,
                        "triage",
                        "scale",
                        "--config",
                        str(config),
                        "--format",
                        "json",
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    pass_fds=(write,),
                    env={**os.environ, "NO_COLOR": "1", "INFRADIAG_BENCH_FD": str(write)},
                )
                walls.append((time.perf_counter() - started) * 1000)
                os.close(write)
                with os.fdopen(read) as out:
                    memory = json.loads(out.read() or "{}")
                if done.returncode not in (0, 1, 3) or not done.stdout.strip():
                    raise RuntimeError(f"triage failed ({done.returncode}): {done.stderr[-2000:]}")
                report = json.loads(done.stdout)
                assert len(report["probes"]) == size, f"{len(report['probes'])} probes for {size} services"
                peaks.append(
                    (memory["rss_kib"], memory.get("probe_rss_kib"), memory.get("environment_rss_kib"))
                )
                if memory.get("probe_cpu_ms") is None or memory.get("environment_cpu_ms") is None:
                    # A child that had ended by then would count as no CPU, and lower the floor.
                    raise RuntimeError(f"no CPU figure for a child process: {memory}")
                cpus.append((memory["cpu_ms"], memory["probe_cpu_ms"], memory["environment_cpu_ms"]))
                for probe in report["probes"]:
                    stalls.append(probe["latencyMs"] - triage_scale.ENDPOINT_DELAY_MS)
                    unaccounted.append(probe["latencyMs"] - _phase_sum(probe["phases"]))
            parent.send("calls")
            pages = list_pages(parent.recv(), runs)
    finally:
        parent.close()
        twin.join(timeout=10)
        if twin.is_alive():
            twin.kill()
    return {
        "walls": walls,
        "pages": pages,
        "bound_path_ms": triage_scale.critical_path_ms(raw, pages),
        "rss_kib": max(p[0] for p in peaks),
        "probe_rss_kib": max((p[1] or 0) for p in peaks) or None,
        "environment_rss_kib": max((p[2] or 0) for p in peaks) or None,
        "stalls": stalls,
        "unaccounted": unaccounted,
        "cpu_ms": tuple(statistics.median(c[i] for c in cpus) for i in range(3)),
        "api_delay_ms": float(triage_scale.API_DELAY_MS),
    }


def floor_ms(startup_ms: float, cpu_ms: tuple[float, float, float], api_delay_ms: float) -> float:
    """The least wall time a cold triage with this CPU can take on this machine: the environment process
    cannot answer before the interpreter has started, its own CPU (the libraries, then the answers) is spent
    and one API call has come back; and the three processes' CPU shares the machine's cores. The twin's CPU
    and the triage's own wait for the listing and probes are left out, so the true floor is higher."""
    _, _, environment = cpu_ms
    serial = startup_ms + environment + api_delay_ms
    shared = sum(cpu_ms) / (os.cpu_count() or 1)
    return max(serial, shared)


def list_pages(methods: list[str], runs: int) -> int:
    """ListServices pages per triage, from the methods the twin logged over `runs` triages."""
    return max(1, methods.count("ListServices") // runs)


def _phase_sum(phases: dict[str, Any]) -> float:
    return sum(phases.get(name) or 0.0 for name in ("dns", "connect", "tls", "firstByte"))


def warm_runs(size: int, runs: int) -> dict[str, Any]:
    """bench/triage_scale.py's warm measurement of `size` (fresh interpreter), with the warm probes'
    self-stall."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "triage_scale.py"), "--one", str(size), "--runs", str(runs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 200, 500])
    parser.add_argument("--runs", type=int, default=3, help="cold triages per size (and warm ones)")
    args = parser.parse_args()
    startup = python_startup_ms()
    header = (
        "services  cold ms  bound ms  cold ratio  floor ms  floor ratio  CPU ms triage/probe/env"
        "  warm ms  warm ratio  triage RSS  probe RSS  env RSS  sum MiB  stall p50/p99/max cold"
        "  warm p99/max  unaccounted max"
    )
    print(f"python -c pass: {startup:.0f} ms")
    print(header)
    for size in args.sizes:
        cold = cold_runs(size, args.runs)
        warm = warm_runs(size, args.runs)
        bound = startup + cold["bound_path_ms"]
        wall = statistics.median(cold["walls"])
        rss = cold["rss_kib"] / 1024
        probe_rss = (cold["probe_rss_kib"] or 0) / 1024
        environment_rss = (cold["environment_rss_kib"] or 0) / 1024
        stalls = cold["stalls"]
        floor = floor_ms(startup, cold["cpu_ms"], cold["api_delay_ms"])
        cpu = "/".join(f"{ms:.0f}" for ms in cold["cpu_ms"])
        print(
            f"{size:>8}  {wall:>7.0f}  {bound:>8.0f}  {wall / bound:>10.2f}  {floor:>8.0f}"
            f"  {floor / bound:>11.2f}  {cpu:>23}  {warm['wall_ms']:>7}"
            f"  {warm['ratio']:>10}  {rss:>10.0f}  {probe_rss:>9.0f}  {environment_rss:>7.0f}"
            f"  {rss + probe_rss + environment_rss:>7.0f}"
            f"  {percentile(stalls, 0.5):>6.1f}/{percentile(stalls, 0.99):.1f}/{max(stalls):.1f}"
            f"  {warm.get('stall_p99_ms', float('nan')):>8.1f}/{warm.get('stall_max_ms', float('nan')):.1f}"
            f"  {max(cold['unaccounted']):>8.1f}"
        )
    print(
        "cold: median wall of fresh `infradiag triage` processes; bound = python -c pass + critical path;"
        " warm: bench/triage_scale.py's median warm triage against the critical path alone\n"
        "floor: the least a cold triage with that CPU can take here: max(python -c pass + the environment"
        " process's CPU + one API call, all three processes' CPU / cores)\n"
        "stall: probe latency minus the endpoint's 300 ms delay (ms); unaccounted: latency minus the sum of"
        " its phases (ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
