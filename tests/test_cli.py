"""The CLI as a user types it: the incident, JSON purity, exit codes, lazy imports, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.cli_process import reaped, start_hung_run
from tests.conftest import ROOT, SCENARIOS, run_cli

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
CONNECTOR = "projects/acme-staging/locations/us-central1/connectors/staging-conn"


# What `--help` must not pay for: the Google libraries, httpx, and Rich (Typer's boxed help, ~100 ms) and
# pydantic (Typer's value coercion, ~100 ms), which only a command that runs needs.
_NOT_FOR_HELP = ("google.cloud", "grpc", "httpx", "rich", "pydantic")


def _heavy_loaded_after(args: list[str], heavy: tuple[str, ...], tail: str = "") -> str:
    """A script that runs `infradiag ARGS` through cli.main in this interpreter, then prints its exit code and
    the sorted modules of `heavy` it loaded (not the None placeholders of infradiag.unused_parts), then
    runs `tail`."""
    return (
        "import sys\n"
        "from infradiag.cli import main\n"
        f"sys.argv = ['infradiag', *{args!r}]\n"
        "try:\n    main()\n    code = 0\nexcept SystemExit as done:\n    code = done.code or 0\n"
        "print(code)\n"
        f"heavy = {heavy!r}\n"
        "print(sorted(m for m in sys.modules if sys.modules[m] is not None and "
        "any(m == h or m.startswith(h + '.') for h in heavy)))\n"
        f"{tail}"
    )


@pytest.mark.process
@pytest.mark.parametrize("args", [["--help"], ["triage", "--help"], ["twin", "serve", "--help"]], ids=str)
def test_help_imports_no_google_cloud_rich_or_pydantic_module(args: list[str]) -> None:
    code = _heavy_loaded_after(args, _NOT_FOR_HELP)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "Examples:" in result.stdout
    assert result.stdout.strip().splitlines()[-2:] == ["0", "[]"]


# A child that gets `signal` while it imports Typer, the first heavy import of a start-up: a Ctrl-C or a
# SIGTERM as a user's or a job runner's arrives at a random moment of the first ~0.1 s, made certain here.
_SIGNAL_WHILE_STARTING = """
import os, signal, sys

class SignalOnTyperImport:
    def find_spec(self, name, path, target=None):
        if name == "typer":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.{signal})
        return None

sys.meta_path.insert(0, SignalOnTyperImport())
sys.argv = ["infradiag", "triage", "staging"]
from infradiag.cli import main
main()
"""


@pytest.mark.process
@pytest.mark.parametrize(
    ("name", "code", "line"),
    [("SIGINT", 130, "infradiag: interrupted"), ("SIGTERM", 143, "infradiag: terminated")],
)
def test_a_signal_while_starting_up_is_one_line_not_a_traceback(name: str, code: int, line: str) -> None:
    child = _SIGNAL_WHILE_STARTING.replace("{signal}", name)
    result = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert (result.returncode, result.stderr, result.stdout) == (code, f"{line}\n", "")


@pytest.mark.process
@pytest.mark.parametrize("command", ["triage", "gate"])
def test_sigterm_during_triage_or_gate_says_terminated_and_exits_143(command: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with reaped(start_hung_run(tmp_path, command)) as process:  # it waits on backend until its deadline
        time.sleep(3)  # started up, or still starting: either way SIGTERM must end it the same way
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    assert (process.returncode, out) == (143, ""), err
    assert err.splitlines()[-1:] == ["infradiag: terminated"], err
    assert "Traceback" not in err


def test_triage_staging_names_the_saturated_connector_and_exits_1() -> None:
    result = run_cli("triage", "staging")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "vpc_connector.saturated" in out
    assert "P0" in out
    assert "VPC connector staging-conn is out of capacity" in out
    assert "  3. Why would connector staging-conn fail them?" in out  # the whole chain, down to capacity
    assert (
        "gcloud compute networks vpc-access connectors update staging-conn --region us-central1 "
        "--project acme-staging --min-instances 2 --max-instances 6"
    ) in out
    assert "# risks: can only go up in place" in out


def test_json_output_is_only_the_v1_report() -> None:
    result = run_cli("triage", "--scenario", str(INCIDENT), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)  # nothing but the JSON object on stdout
    assert report["schema"] == "infradiag.triage/v1"
    assert report["verdict"] == "down"
    assert report["project"] == "acme-staging"
    top = report["findings"][0]
    assert (top["cause"], top["priority"], top["resources"]) == ("vpc_connector.saturated", "P0", [CONNECTOR])
    assert len(top["affectedServices"]) == 9
    assert top["why"][0]["question"].startswith("Why do 9 services")
    # The nightly export job routes through the saturated connector too (Cloud Run Jobs, jobs.list).
    assert {
        "source": "run",
        "detail": "job nightly-export routes through staging-conn too "
        "(template.template.vpcAccess.connector); latest execution nightly-export-x7k2p: EXECUTION_FAILED",
    } in top["why"][-1]["evidence"]
    assert report["plan"][0] == {
        **report["plan"][0],
        "rank": 1,
        "priority": "P0",
        "findings": [top["id"]],
    }
    assert all(p["outcome"] == "http_5xx" and p["status"] == 503 for p in report["probes"])


def test_healthy_staging_exits_0() -> None:
    result = run_cli("triage", "staging-healthy", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "healthy"
    assert not [f for f in report["findings"] if f["priority"] in ("P0", "P1")]


def test_fail_on_p0_still_fails_on_the_incident() -> None:
    assert run_cli("triage", "staging", "--fail-on", "P0", "--format", "json").returncode == 1


def test_unknown_environment_is_a_one_line_usage_error() -> None:
    result = run_cli("triage", "nope")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "infradiag.toml" in result.stderr and "nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_flag_values_exit_2() -> None:
    assert run_cli("triage", "staging", "--format", "xml").returncode == 2
    result = run_cli("triage", "staging", "--deadline", "soon")
    assert result.returncode == 2
    assert "--deadline" in result.stderr and "Traceback" not in result.stderr


def test_broken_scenario_names_file_and_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "apiVersion: infradiag/twin-v1\nname: broken\nproject: acme-staging\nregion: us-central1\n"
        "now: 2026-09-15T23:06:52Z\nrun:\n  servicez: []\n"
    )
    result = run_cli("triage", "--scenario", str(broken))
    assert result.returncode == 2
    assert f"{broken}:7" in result.stderr
    assert "servicez" in result.stderr and "Traceback" not in result.stderr


# The console script's own entry point, with an exit handler and a temporary directory of the caller's.
_SCRIPT_WITH_EXIT_HANDLERS = """
import atexit, sys, tempfile
from pathlib import Path
folder = tempfile.TemporaryDirectory()  # removed at exit by weakref.finalize, through atexit
marker = Path(sys.argv[1])
atexit.register(lambda: marker.write_text(folder.name))
sys.argv = ["infradiag", *sys.argv[2:]]
from infradiag.cli import script
script()
"""


@pytest.mark.process
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["triage", "--scenario", str(INCIDENT), "--format", "json", "-q"], 1),
        (["triage", "--scenario", str(SCENARIOS / "staging-healthy.yaml"), "--format", "json", "-q"], 0),
        (["triage", "--format", "yaml"], 2),
    ],
    ids=["incident", "healthy", "bad-flag"],
)
def test_the_console_script_exits_at_once_yet_runs_exit_handlers_and_flushes(
    args: list[str], code: int, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    marker = tmp_path / "marker"
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT_WITH_EXIT_HANDLERS, str(marker), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == code, result.stderr
    assert marker.exists()  # the exit handlers ran, the caller's among them
    assert not Path(marker.read_text()).exists()  # and weakref.finalize's: the directory is gone
    if code != 2:  # the whole report, flushed
        report = json.loads(result.stdout)
        assert report["environment"] and report["probes"]
    else:
        assert result.stdout == "" and result.stderr.count("\n") == 1


# What the triage's own process must not load (issue 16): the libraries its children load (the probe
# process httpx, the environment process every Google library but Cloud Run's), and what no process of
# ours uses (httpx's command-line client with Pygments, google-auth's asyncio transport with aiohttp).
_NOT_IN_THE_TRIAGE_PROCESS = (
    "httpx",
    "aiohttp",
    "pygments",
    "google.cloud.compute_v1.types",
    "google.cloud.sqladmin_v1beta4.types",
    "google.cloud.monitoring_v3.types",
)


@pytest.mark.process
def test_a_triage_leaves_the_heavy_libraries_to_its_children(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from infradiag.twin.scenario import load_scenario
    from infradiag.twin.server import Twin

    scenario = load_scenario(INCIDENT)
    with Twin(scenario) as twin:  # here: a twin in the triage's process would load what it must not
        assert twin.addresses is not None
        config = tmp_path / "infradiag.toml"
        config.write_text(
            f'[environments.staging]\nproject = "{scenario.project}"\nregion = "{scenario.region}"\n'
            f'api_endpoint = "{twin.addresses.rest}"\nmonitoring_endpoint = "{twin.addresses.grpc}"\n'
            f'now = "{scenario.now.isoformat()}"\n'
        )
        code = _heavy_loaded_after(
            ["triage", "staging", "--config", str(config), "--format=json"],
            _NOT_IN_THE_TRIAGE_PROCESS,
            tail="from infradiag.collect import environment_process\n"
            "from infradiag.probe import process\n"
            "print(process.child_pid() is not None, environment_process.child_pid() is not None)\n",
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
        )
    report, exit_code, loaded, children = result.stdout.strip().rsplit("\n", 3)
    found = json.loads(report)
    assert exit_code == "1"  # the incident's P0 stands
    # A whole triage ran: probes, and the reads that find the saturated connector (connector and metrics).
    assert found["probes"] and "vpc_connector.saturated" in json.dumps(found["findings"])
    assert loaded == "[]"
    assert children == "True True"  # the probes and the reads were made there
