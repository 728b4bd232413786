"""How loading a scenario scales with its size: ~5 MB and ~50 MB, of many resources or of one huge scalar.

Every scenario is read by `load_scenario` (bounded UTF-8 read, libyaml parse, bounded construction,
validation). Its time must grow linearly with the file: the pure-Python YAML reader it replaced took 3 s
for a 5 MB scalar, 22 s for 15 MB and over two minutes for 50 MB. For each shape this prints the load time
and throughput at both sizes and the ratio `t(50 MB) / (10 * t(5 MB))`, about 1.0 when linear; then the
time to refuse a ~520-byte "billion laughs" alias bomb (9**9 strings once expanded).

    .venv/bin/python bench/load_scale.py
    .venv/bin/python bench/load_scale.py --keep /tmp/load   # also keep the generated scenarios

Each load runs in a fresh interpreter (imports excluded from the time), so its peak memory is its own.
Nothing here is asserted: the figures are for the README.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MB = 1_000_000
SIZES_MB = (5, 50)
BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 9)}]\n" for i in range(1, 9)
)

# Child: load one file, print its time, peak memory and what came out (or the one-line refusal) as JSON.
MEASURE = """
import json, resource, sys, time
from pathlib import Path
from infradiag.errors import UsageError
from infradiag.twin.scenario import load_scenario
start = time.perf_counter()
try:
    loaded = load_scenario(Path(sys.argv[1]))
    outcome = f"{len(loaded.run.services)} services, summary of {len(loaded.summary)} characters"
except UsageError as error:
    outcome = error.one_line()
seconds = time.perf_counter() - start
# VmHWM is this program's own peak; ru_maxrss would include the parent's, forked before exec.
try:
    status = Path("/proc/self/status").read_text()
    rss = int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mib": rss, "outcome": outcome}))
"""


def many_resources(target_bytes: int) -> str:
    """A healthy fleet (services, their endpoints) grown until its YAML is about `target_bytes` long."""
    from triage_scale import scenario

    per_service = len(_dump(scenario(100))) / 100
    return _dump(scenario(max(1, int(target_bytes / per_service))))


def one_scalar(target_bytes: int) -> str:
    """A one-service scenario whose `summary` is a single plain scalar of about `target_bytes` characters."""
    from triage_scale import scenario

    raw = scenario(1)
    raw["summary"] = "slow " * (target_bytes // 5)
    return _dump(raw)


def _dump(raw: dict[str, Any]) -> str:
    # libyaml's emitter: the pure-Python one takes minutes for 50 MB.
    return yaml.dump(raw, Dumper=yaml.CSafeDumper, sort_keys=False, width=4_000)


def load(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"loading {path} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", type=Path, help="write the scenarios here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="infradiag-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{'shape':16} {'size':>8} {'load':>8} {'MB/s':>7} {'peak RSS':>9}  outcome")
    for shape, build in (("many resources", many_resources), ("one scalar", one_scalar)):
        times: dict[int, float] = {}
        for size in SIZES_MB:
            path = folder / f"{shape.replace(' ', '-')}-{size}mb.yaml"
            path.write_text(build(size * MB), encoding="utf-8")
            actual = path.stat().st_size / MB
            result = load(path)
            times[size] = result["seconds"]
            print(
                f"{shape:16} {actual:6.1f}MB {result['seconds']:7.2f}s {actual / result['seconds']:7.1f}"
                f" {result['peak_rss_mib']:6.0f}MiB  {result['outcome'][:70]}"
            )
            if args.keep is None:
                path.unlink()
        small, large = SIZES_MB
        ratio = times[large] / (large / small * times[small])
        print(f"{shape:16} t({large} MB) / ({large // small} x t({small} MB)) = {ratio:.2f}")
    bomb = folder / "alias-bomb.yaml"
    bomb.write_text(BOMB, encoding="utf-8")
    result = load(bomb)
    refusal = result["outcome"].split(": ", 1)[1]
    print(
        f"{'alias bomb':16} {len(BOMB):6d} B {result['seconds']:7.3f}s {'':7}"
        f" {result['peak_rss_mib']:6.0f}MiB  {refusal[:70]}"
    )
    if args.keep is None:
        bomb.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
