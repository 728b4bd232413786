"""A scenario file that cannot be read, or would not fit in memory or on the stack, is one line and exit 2."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infradiag.errors import UsageError
from infradiag.twin.scenario import load_scenario
from infradiag.yamlfile import MAX_ALIAS_NODES, MAX_DEPTH
from tests.conftest import ROOT, SCENARIOS, run_cli
from tests.inprocess import one_line_usage_error
from tests.test_yamlfile import BOMB

SERVICE = "projects/acme-staging/locations/us-central1/services/backend"
# A valid scenario (it loads), small enough to load 200 times in a second.
SEED = f"""\
apiVersion: infradiag/twin-v1
name: small
project: acme-staging
region: us-central1
now: 2026-09-15T23:06:52Z
run:
  services:
  - name: {SERVICE}
    uri: https://backend-abc-uc.a.run.app
    ingress: INGRESS_TRAFFIC_ALL
    latestReadyRevision: {SERVICE}/revisions/backend-00001-abc
    conditions:
    - {{type: Ready, state: CONDITION_SUCCEEDED}}
    template:
      vpcAccess:
        connector: projects/acme-staging/locations/us-central1/connectors/conn
        egress: ALL_TRAFFIC
vpcaccess:
  connectors:
  - name: projects/acme-staging/locations/us-central1/connectors/conn
    state: READY
    minInstances: 2
    maxInstances: 10
endpoints:
  backend:
    "/health": {{status: 503, delayMs: 10}}
apiFaults:
- {{api: run, delayMs: 5}}
"""


def triage_with(scenario: Path) -> tuple[str, ...]:
    return ("triage", "--scenario", str(scenario))


def test_a_folder_as_the_scenario(tmp_path: Path) -> None:
    one_line_usage_error(triage_with(tmp_path), f"infradiag: {tmp_path}: is a folder, not a scenario")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            b"apiVersion: infradiag/twin-v1\nname: caf\xe9\n",
            ":2: not UTF-8 text: byte 0xe9 at line 2, column 10",
        ),
        (b"apiVersion: infradiag/twin-v1\x00\n", ":1: not UTF-8 text: a NUL byte at line 1"),
        (
            b"apiVersion: infradiag/twin-v1\nname: a\x1bb\n",
            ":2: control character U+001B at line 2, column 8",
        ),
        (b"a: " + b"[" * 20_000, f":1: nesting deeper than {MAX_DEPTH} levels"),
    ],
    ids=["latin-1", "nul", "escape", "20000 deep"],
)
def test_bytes_a_scenario_cannot_hold(tmp_path: Path, content: bytes, words: str) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_bytes(content)
    one_line_usage_error(triage_with(scenario), f"infradiag: {scenario}{words}")


def test_a_suppressions_folder_is_named_as_one(tmp_path: Path) -> None:
    args = (*triage_with(SCENARIOS / "staging-healthy.yaml"), "--suppressions", str(tmp_path))
    one_line_usage_error(args, f"infradiag: {tmp_path}: is a folder, not a suppressions file")


def test_a_binary_playbook_is_named_by_triage_and_by_lint(tmp_path: Path) -> None:
    playbook = tmp_path / "broken.yaml"
    playbook.write_bytes(b"id: broken\ntitle: \xff\n")
    args = (*triage_with(SCENARIOS / "staging-healthy.yaml"), "--playbooks", str(tmp_path))
    one_line_usage_error(args, f"infradiag: {playbook}:2: not UTF-8 text")
    lint = run_cli("playbooks", "lint", "--dir", str(tmp_path), timeout=300)
    assert lint.returncode == 2
    assert lint.stderr.startswith(f"{playbook}:2: not UTF-8 text") and "Traceback" not in lint.stderr


def _limited_memory() -> None:
    # Far more than a triage needs to load and refuse a scenario; far less than the bomb, expanded.
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


@pytest.mark.skipif(sys.platform != "linux", reason="bounds the child's memory with RLIMIT_AS")
@pytest.mark.process
def test_an_alias_bomb_scenario_is_refused_by_a_real_triage(tmp_path: Path) -> None:
    scenario = tmp_path / "bomb.yaml"
    scenario.write_text(BOMB)
    result = subprocess.run(
        [sys.executable, "-m", "infradiag", *triage_with(scenario)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        preexec_fn=_limited_memory,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith(f"infradiag: {scenario}:")
    assert f"aliases expand to more than {MAX_ALIAS_NODES} nodes" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifos_are_refused_rather_than_waited_on(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    os.mkfifo(scenario)
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    os.mkfifo(playbooks / "waiting.yaml")
    # Processes of their own, with a timeout: reading a FIFO that has no writer used to wait forever.
    result = run_cli(*triage_with(scenario), timeout=300)
    assert result.returncode == 2
    assert result.stderr.startswith(f"infradiag: {scenario}: is a FIFO (named pipe), not a regular file")
    lint = run_cli("playbooks", "lint", "--dir", str(playbooks), timeout=300)
    assert lint.returncode == 2
    assert lint.stderr.startswith(f"{playbooks / 'waiting.yaml'}: is a FIFO")


def _loads_or_refuses(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.yaml"
        path.write_bytes(content)
        try:
            load_scenario(path)
        except UsageError as error:
            assert "\n" not in error.one_line()


YAMLISH = st.text(alphabet=st.sampled_from(list("[]{}:-&*!|>?,'\"# \n\t0123456789.aeflnrstuy~")), max_size=40)
# What a parser or Python cannot hold: long digit runs, deep nesting, aliases, bytes that are not UTF-8.
EXTREMES = st.sampled_from(
    ["9" * 5000, "[" * 3000, "- " * 1500, "&a [*a]", " !!python/object:os.system x", " <<: *x", "\x01"]
).map(str.encode) | st.binary(max_size=8)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """SEED with a slice replaced by YAML-ish text or extreme bytes: mostly still a scenario, with odd
    values, types and structure."""
    start = draw(st.integers(0, len(SEED)))
    end = draw(st.integers(start, min(len(SEED), start + 60)))
    filler = draw(YAMLISH.map(str.encode) | EXTREMES)
    return SEED[:start].encode() + filler + SEED[end:].encode()


FAST = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=300) | YAMLISH.map(str.encode))
def test_arbitrary_bytes_load_or_are_a_usage_error(content: bytes) -> None:
    _loads_or_refuses(content)


@FAST
@given(mutated())
def test_a_mutated_scenario_loads_or_is_a_usage_error(content: bytes) -> None:
    _loads_or_refuses(content)
