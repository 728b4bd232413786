"""Probe settings in infradiag.toml: parsed into per-service settings; a bad one is a one-line error naming
the file and the key, before anything is probed."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradiag.config import load_config
from infradiag.errors import UsageError
from tests.conftest import SCENARIOS, run_cli

HEAD = f'[environments.stage]\ntwin = "{SCENARIOS / "staging-healthy.yaml"}"\n'


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "infradiag.toml"
    path.write_text(HEAD + body)
    return path


def test_probe_tables_are_read_per_service(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'auth = "id_token"\nprobe_confirm = true\n'
        "[environments.stage.probes.backend]\n"
        'paths = ["/health", { path = "/ws", kind = "websocket", message = "ping" }]\n'
        "body_check = 'body.database == \"ok\"'\n"
        'expect_headers = { "content-type" = "application/json.*" }\n'
        "latency_budget_ms = 800\n",
    )
    env = load_config(path).environment("stage")
    assert (env.auth, env.probe_confirm, env.probe_concurrency) == ("id_token", True, 256)
    backend = env.probes["backend"]
    assert [p.path for p in backend.paths] == ["/health", "/ws"]
    assert (backend.paths[1].kind, backend.paths[1].message) == ("websocket", "ping")
    assert backend.body_check == 'body.database == "ok"'
    assert backend.latency_budget_ms == 800


@pytest.mark.parametrize(
    ("body", "problem", "fix"),
    [
        (
            "[environments.stage.probes.backend]\nbody_check = 'body.database =='\n",
            "[environments.stage] probes.backend.body_check: invalid CEL",
            "write a CEL expression over `body`",
        ),
        (
            '[environments.stage.probes.backend]\nexpect_headers = { x-rev = "(" }\n',
            "[environments.stage] probes.backend.expect_headers: header x-rev: '(' is not a regular",
            "write a regular expression",
        ),
        (
            'auth = "bearer abc"\n',
            "[environments.stage] auth: unknown auth 'bearer abc'",
            'write auth = "id_token" or auth = "env:VARIABLE"',
        ),
        (
            '[environments.stage.probes.backend]\npaths = [{ path = "/ws", kind = "websockets" }]\n',
            "[environments.stage] probes.backend.paths.0.kind",
            "see README",
        ),
        (
            "[environments.stage.probes.backend]\ntimeout = 3\n",
            "[environments.stage] probes.backend.timeout: Extra inputs are not permitted",
            "remove the key",
        ),
    ],
)
def test_a_bad_probe_setting_names_file_key_and_fix(
    tmp_path: Path, body: str, problem: str, fix: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(UsageError) as caught:
        load_config(path)
    line = caught.value.one_line()
    assert line.startswith(f"{path}: {problem}")
    assert f"(fix: {fix}" in line


def test_the_cli_stops_on_a_bad_check_with_exit_2_and_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[environments.stage.probes.backend]\nbody_check = 'body.database =='\n")
    result = run_cli("probe", "stage", "--config", str(path))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "probes.backend.body_check: invalid CEL" in line
    assert "Traceback" not in result.stderr
