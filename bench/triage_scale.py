"""How a whole triage scales with the fleet: 10, 50 and 200 services against a twin in its own process.

Every service endpoint answers after 300 ms and every API call after 200 ms, so the fastest possible triage
is the longest chain of things that must happen one after the other:

- the services must be listed (each ListServices page, 200 ms) before their probes (300 ms) can start;
- every other read (connectors, metrics, ...) runs in parallel with that chain (200 ms each).

The critical-path bound is the longer of the two chains, computed from the scenario's delays and the number of
ListServices pages the twin served. The ratio wall / bound says how close the triage gets to it (target: at
most 1.3 at 200 services), and the API call count must not grow with the fleet.

    .venv/bin/python bench/triage_scale.py                 # 10, 50, 200 services, 2 runs each
    .venv/bin/python bench/triage_scale.py --sizes 500 --runs 1
    .venv/bin/python bench/triage_scale.py --write /tmp/scale   # also write the scenarios as YAML

Each size runs in a fresh interpreter, so its peak memory (max RSS of the triage process) is its own.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROJECT, REGION = "acme-scale", "us-central1"
ENDPOINT_DELAY_MS = 300
API_DELAY_MS = 200
APIS = ("run", "vpcaccess", "compute", "sql", "monitoring", "iam")
CONNECTOR = f"projects/{PROJECT}/locations/{REGION}/connectors/scale-conn"


def scenario(size: int) -> dict[str, Any]:
    """A healthy fleet of `size` services behind one connector, every endpoint and API call slowed down."""
    names = [f"svc-{index:03d}" for index in range(size)]
    return {
        "apiVersion": "infradiag/twin-v1",
        "name": f"scale-{size}",
        "summary": f"{size} healthy services; endpoints {ENDPOINT_DELAY_MS} ms, API calls {API_DELAY_MS} ms",
        "project": PROJECT,
        "region": REGION,
        "now": "2026-09-15T23:06:52Z",
        "run": {"services": [_service(name) for name in names]},
        "vpcaccess": {
            "connectors": [
                {
                    "name": CONNECTOR,
                    "network": "scale-vpc",
                    "ipCidrRange": "10.8.0.0/28",
                    "state": "READY",
                    "minInstances": 2,
                    "maxInstances": 10,
                    "machineType": "e2-standard-4",
                }
            ]
        },
        "endpoints": {name: {"*": {"delayMs": ENDPOINT_DELAY_MS}} for name in names},
        "apiFaults": [{"api": api, "delayMs": API_DELAY_MS} for api in APIS],
    }


def _service(name: str) -> dict[str, Any]:
    full = f"projects/{PROJECT}/locations/{REGION}/services/{name}"
    return {
        "name": full,
        "uri": f"https://{name}-abcdefghij-uc.a.run.app",
        "ingress": "INGRESS_TRAFFIC_ALL",
        "template": {
            "scaling": {"minInstanceCount": 1, "maxInstanceCount": 20},
            "vpcAccess": {"connector": CONNECTOR, "egress": "PRIVATE_RANGES_ONLY"},
            "timeout": "300s",
            "containers": [{"image": f"us-docker.pkg.dev/{PROJECT}/apps/{name}:1"}],
        },
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
        "latestReadyRevision": f"{full}/revisions/{name}-00001-abc",
        "latestCreatedRevision": f"{full}/revisions/{name}-00001-abc",
    }


def probe_wave() -> int:
    """How many probes are in flight at once: the default `probe_concurrency` (the benchmarks set none)."""
    from infradiag.config.model import ProbeSettings

    return ProbeSettings().probe_concurrency


def critical_path_ms(raw: dict[str, Any], list_pages: int) -> float:
    """The fastest a triage of `raw` can be: ListServices pages then the probes, or the slowest other API
    call, whichever is longer. At most `probe_concurrency` probes are in flight at once (the default, as the
    benchmarks configure none), so a fleet larger than that is probed in waves of the slowest probe."""
    api_delay = {fault["api"]: fault["delayMs"] for fault in raw["apiFaults"]}
    slowest_probe = max(b.get("delayMs", 0) for paths in raw["endpoints"].values() for b in paths.values())
    waves = math.ceil(len(raw["endpoints"]) / probe_wave())
    listing_then_probes = list_pages * api_delay.get("run", 0) + waves * slowest_probe
    return float(max(listing_then_probes, max(api_delay.values())))


def _serve_twin(raw: dict[str, Any], conn: Connection) -> None:
    """Child process: serve the scenario, send its addresses, then answer each request with the API methods
    called so far, until the parent closes the pipe."""
    from infradiag.twin.scenario import Scenario
    from infradiag.twin.server import Twin

    with Twin(Scenario.model_validate(raw)) as twin:
        assert twin.addresses is not None
        # What the twin holds for its whole life is never scanned again: a full collection over a large
        # scenario took 80 ms while the probes were in flight, the service's time as the probes measured it
        # but the twin's artefact, not a behaviour of the fleet under test.
        gc.freeze()
        conn.send((twin.addresses.rest, twin.addresses.grpc))
        while True:
            try:
                conn.recv()
            except EOFError:
                return
            conn.send([call.method for call in twin.log.calls()])


def measure(size: int, runs: int) -> dict[str, Any]:
    """Triage a twin of `size` services `runs` times in this process, then gather its evidence once more on
    its own (probes and API reads, no diagnosis) to show where the time goes.

    The twin runs in a process of its own, as Google's APIs and the services run elsewhere than the triage:
    in this process it would share the interpreter lock and its serving would count as infradiag's time.
    Peak memory is this process's (the triage's) alone."""
    from infradiag import runtime
    from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks
    from infradiag.target import ApiEndpoints, Target
    from infradiag.triage import gather_evidence, triage
    from infradiag.twin.scenario import Scenario

    raw = scenario(size)
    loaded = Scenario.model_validate(raw)
    playbooks = load_playbooks(PLAYBOOK_DIR)
    walls: list[float] = []
    cpus: list[float] = []
    calls: list[Counter[str]] = []
    verdicts: set[str] = set()
    stalls: list[float] = []  # warm probes' latency over the endpoint's delay
    parent, child = multiprocessing.Pipe()
    twin = multiprocessing.get_context("spawn").Process(target=_serve_twin, args=(raw, child), daemon=True)
    twin.start()

    def methods_called() -> list[str]:
        parent.send("calls")
        answer: list[str] = parent.recv()
        return answer

    try:
        rest, grpc = parent.recv()
        target = Target(
            environment=f"scale-{size}",
            project=PROJECT,
            region=REGION,
            endpoints=ApiEndpoints(rest=rest, grpc=grpc),
            now=loaded.now,
        )
        # One cold triage first (imports, client construction), reported on its own as `first`; the wall
        # time is the median of the warm ones that follow, as a sweep or a gate that polls sees them. As
        # the commands do, cycles are collected between triages, never during one.
        runtime.collect_cycles_only_when_idle()
        for _ in range(runs + 1):
            gc.collect()
            before = len(methods_called())
            started, cpu = time.perf_counter(), time.process_time()
            report, _ = runtime.run(triage(target, playbooks))
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            calls.append(Counter(methods_called()[before:]))
            verdicts.add(report.verdict)
            assert len(report.probes) == size, f"{len(report.probes)} probes for {size} services"
            if len(walls) > 1:
                stalls.extend(p.latency_ms - ENDPOINT_DELAY_MS for p in report.probes)
        gc.collect()
        started = time.perf_counter()
        evidence = runtime.run(gather_evidence(target, loaded.now))
        evidence_ms = (time.perf_counter() - started) * 1000
    finally:
        parent.close()
        twin.join(timeout=10)
        if twin.is_alive():
            twin.kill()
    pages = calls[-1]["ListServices"]
    bound = critical_path_ms(raw, pages)
    wall = statistics.median(walls[1:])
    return {
        "services": size,
        "wall_ms": round(wall),
        "first_ms": round(walls[0]),
        "cpu_ms": round(statistics.median(cpus[1:])),
        "evidence_ms": round(evidence_ms),
        "slowest_probe_ms": round(max(p.latency_ms for p in evidence.probes)),
        "bound_ms": round(bound),
        "ratio": round(wall / bound, 2),
        "evidence_ratio": round(evidence_ms / bound, 2),
        "api_calls": sum(calls[-1].values()),
        "calls_by_method": dict(sorted(calls[-1].items())),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "verdicts": sorted(verdicts),
        "stall_p99_ms": round(sorted(stalls)[max(0, round(0.99 * len(stalls)) - 1)], 1),
        "stall_max_ms": round(max(stalls), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--runs", type=int, default=2, help="warm triages per size, after a cold one")
    parser.add_argument("--write", type=Path, help="also write each generated scenario to this folder")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.runs)))
        return 0
    if args.write is not None:
        import yaml

        args.write.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            (args.write / f"scale-{size}.yaml").write_text(yaml.safe_dump(scenario(size), sort_keys=False))
    rows = []
    for size in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--runs", str(args.runs)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    _print(rows)
    return 0


def _print(rows: list[dict[str, Any]]) -> None:
    columns = [
        ("services", "services"),
        ("wall ms", "wall_ms"),
        ("bound ms", "bound_ms"),
        ("ratio", "ratio"),
        ("API calls", "api_calls"),
        ("peak RSS MiB", "peak_rss_mib"),
        ("first ms", "first_ms"),
        ("CPU ms", "cpu_ms"),
        ("evidence ms", "evidence_ms"),
        ("evid. ratio", "evidence_ratio"),
        ("slowest probe", "slowest_probe_ms"),
    ]
    print("  ".join(f"{title:>{len(title)}}" for title, _ in columns))
    for row in rows:
        print("  ".join(f"{row[key]:>{len(title)}}" for title, key in columns))
    for row in rows:
        methods = ", ".join(f"{method} {count}" for method, count in row["calls_by_method"].items())
        print(f"  {row['services']} services, verdict {'/'.join(row['verdicts'])}: {methods}")
    print(
        f"bound = max(ListServices pages x {API_DELAY_MS} ms + waves of probes x slowest endpoint"
        f" {ENDPOINT_DELAY_MS} ms, slowest other API call {API_DELAY_MS} ms); a wave: probe_concurrency"
        f" probes ({probe_wave()})\n"
        "wall: median warm triage; first: the cold one before them; evidence: probes and API reads alone"
        " (no diagnosis)\ntarget: ratio <= 1.3 at 200 services, the same API calls at every size"
    )


if __name__ == "__main__":
    sys.exit(main())
