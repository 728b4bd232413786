"""One triage of each bundled scenario per test process, shared by every test that reads its report.

Tests that read the same scenario's report carry its `group` mark, so `./dev test` (pytest-xdist with
`--dist loadgroup`) runs them in one worker, where the triage is made once.
"""

from __future__ import annotations

import subprocess
import tomllib
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import SCENARIOS, run_cli

ALL = sorted(SCENARIOS.glob("*.yaml"))
CONFIG = SCENARIOS.parent / "infradiag.toml"
# A scenario that the bundled infradiag.toml runs as an environment is triaged through it, as a user would
# (`infradiag triage NAME`), with that environment's probe settings (e.g. a custom domain to probe).
ENVIRONMENT_OF = {
    (SCENARIOS.parent / table["twin"]).resolve(): name
    for name, table in tomllib.loads(CONFIG.read_text())["environments"].items()
    if "twin" in table
}


@cache
def triage(path: Path) -> subprocess.CompletedProcess[str]:
    """`infradiag triage` of the scenario as a user runs it, JSON on stdout, failing at any priority (P3)."""
    environment = ENVIRONMENT_OF.get(path.resolve())
    how = ["--config", str(CONFIG), environment] if environment else ["--scenario", str(path)]
    return run_cli("triage", *how, "--format", "json", "--fail-on", "P3")


def group(path: Path) -> pytest.MarkDecorator:
    """The mark that keeps every test of this scenario's report in one worker."""
    return pytest.mark.xdist_group(f"scenario-{path.stem}")
