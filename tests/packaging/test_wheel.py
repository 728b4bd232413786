"""infradiag as a user installs it: the wheel of the current source, installed (not editable) into a clean
virtualenv (./dev test makes it: .venv/tools/wheel-venv), carries its playbooks and report schema, triages a
bundled scenario and reads a credential-requiring twin with a key file, all run from outside the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.authtwin import NO_REAL_GOOGLE, PRIVATE, PROJECT, PUBLIC, write_config, write_scenario
from tests.cli_process import run_process
from tests.cli_process import served_twin as serve_twin
from tests.conftest import ROOT, SCENARIOS

pytestmark = [pytest.mark.process, pytest.mark.xdist_group("wheel")]

VENV = ROOT / ".venv" / "tools" / "wheel-venv"
PYTHON = VENV / "bin" / "python"
INFRADIAG = VENV / "bin" / "infradiag"
INSTALLED = (str(INFRADIAG),)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of the current source, built from a copy of what the wheel is made of (so nothing else in
    the checkout can leak in) and installed over the clean virtualenv's copy, without touching its
    dependencies."""
    assert PYTHON.exists(), (
        f"{VENV} is missing: `./dev test` installs it (log: .venv/tools/wheel-install.log)"
    )
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "infradiag", source / "infradiag", ignore=shutil.ignore_patterns("__pycache__"))
    out = work / "dist"
    _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source))
    [built] = out.glob("infradiag-*.whl")
    _pip("install", "--no-deps", "--force-reinstall", "--quiet", str(built))
    return built


def _pip(*args: str) -> None:
    result = subprocess.run(
        [str(PYTHON), "-m", "pip", *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory outside the checkout, with a HOME and no credentials of any kind."""
    (tmp_path / "home").mkdir()
    return tmp_path


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_", "PYTHON"))}
    return {**env, **NO_REAL_GOOGLE, "HOME": str(home), "NO_COLOR": "1"}


def _installed(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_process(*args, command=INSTALLED, cwd=cwd, timeout=timeout, env=_env(cwd / "home"))


def test_the_wheel_carries_every_playbook_and_the_report_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    playbooks = {f"infradiag/playbooks/{p.name}" for p in (ROOT / "infradiag" / "playbooks").glob("*.yaml")}
    assert len(playbooks) >= 18
    assert playbooks <= names, sorted(playbooks - names)
    assert "infradiag/playbooks/README.md" in names
    assert "infradiag/schemas/triage-report.v1.json" in names
    assert "infradiag/py.typed" in names
    # Nothing of the checkout's tests or scenarios rides along.
    assert not [n for n in names if n.startswith(("tests/", "scenarios/"))]


def test_the_installed_package_is_the_wheel_not_the_checkout(wheel: Path, outside: Path) -> None:
    result = subprocess.run(
        [str(PYTHON), "-c", "import infradiag, sys; print(infradiag.__file__)"],
        cwd=outside,
        env=_env(outside / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    location = Path(result.stdout.strip())
    assert location.is_relative_to(VENV), location
    assert not location.is_relative_to(ROOT / "infradiag")


def test_the_installed_tool_triages_a_bundled_scenario(wheel: Path, outside: Path) -> None:
    scenario = SCENARIOS / "staging-vpc-connector-saturation.yaml"
    result = _installed(outside, "triage", "--scenario", str(scenario), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "down"
    assert report["plan"][0]["priority"] == "P0"
    assert "vpc_connector.saturated" in {f["cause"] for f in report["findings"]}


def test_without_credentials_the_installed_tool_exits_3_naming_the_fix(wheel: Path, outside: Path) -> None:
    config = outside / "infradiag.toml"
    config.write_text('[environments.real]\nproject = "acme-staging"\nregion = "us-central1"\n')
    # gate takes the same path (tests/collect/test_credentials.py runs both in-process).
    result = _installed(outside, "triage", "real", "--config", str(config), "--format", "json")
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    [unknown] = json.loads(result.stdout)["unknowns"]
    assert unknown["source"] == "auth"
    assert "gcloud auth application-default login" in unknown["fix"]


@pytest.fixture
def served_twin(wheel: Path, outside: Path) -> Iterator[tuple[dict[str, dict[str, str]], Path]]:
    """The installed tool's own `twin serve --key-file` on a scenario that requires credentials; it must stop
    on Ctrl-C with exit code 0 after the test."""
    key = outside / "key.json"
    scenario = write_scenario(outside)
    env = _env(outside / "home")
    with serve_twin(scenario, "--key-file", str(key), command=INSTALLED, cwd=outside, env=env) as twin:
        yield twin.addresses, key
        assert twin.interrupt() == 0


def test_the_installed_tool_reads_a_credential_requiring_twin_with_a_key_file(
    served_twin: tuple[dict[str, dict[str, str]], Path], outside: Path
) -> None:
    addresses, key = served_twin
    config = write_config(outside, addresses["rest"]["run"], addresses["grpc"]["monitoring"], key=key)
    result = _installed(outside, "triage", "twin", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "healthy"
    assert report["identity"] == f"infradiag-twin@{PROJECT}.iam.gserviceaccount.com"
    # The private service answered 200: the probe sent an ID token the twin accepted.
    assert {p["service"]: p["status"] for p in report["probes"]} == {PUBLIC: 200, PRIVATE: 200}
    anonymous = write_config(outside, addresses["rest"]["run"], addresses["grpc"]["monitoring"], key=None)
    refused = _installed(outside, "triage", "twin", "--config", str(anonymous), "--format", "json")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert {u["reason"] for u in json.loads(refused.stdout)["unknowns"]} == {"UNAUTHENTICATED"}
