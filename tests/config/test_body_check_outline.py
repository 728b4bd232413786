"""A body check compiled when the config loads is remembered (cel.outline_cache): the next start loads the
same config without parsing it (no celpy, no lark), and a check that does not compile is still refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.user_cache import WATCH_FILES, run_python

CONFIG = """[environments.stage]
project = "acme-stage"
region = "europe-west1"
[environments.stage.probes.backend]
body_check = '{check}'
"""
# Loads the config, then says whether celpy or lark were imported to do it.
_LOAD = """
import sys
from pathlib import Path
from infradiag.config import load_config
load_config(Path(sys.argv[1])).environment("stage")
print(sorted(name for name in ("celpy", "lark") if name in sys.modules))
"""


def _load(config: Path, cache_home: Path) -> subprocess.CompletedProcess[str]:
    return run_python(_LOAD, str(config), cache_home=cache_home)


@pytest.mark.process
def test_a_body_check_is_parsed_once_across_starts(tmp_path: Path) -> None:
    config = tmp_path / "infradiag.toml"
    config.write_text(CONFIG.format(check='body.status == "ok" && size(body.checks) > 0'))
    first = _load(config, tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "['celpy', 'lark']"
    again = _load(config, tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "[]"


@pytest.mark.process
def test_a_body_check_that_does_not_compile_is_refused_every_time(tmp_path: Path) -> None:
    config = tmp_path / "infradiag.toml"
    config.write_text(CONFIG.format(check="body.status =="))
    for _ in range(2):
        done = _load(config, tmp_path / "cache")
        assert done.returncode != 0 and "invalid CEL" in done.stderr


# Three body checks, none seen before: two of services, one of a path.
THREE_CHECKS = """[environments.stage]
project = "acme-stage"
region = "europe-west1"
[environments.stage.probes.backend]
body_check = 'body.status == "ok"'
[environments.stage.probes.frontend]
body_check = 'size(body.checks) > 0'
paths = [{ path = "/ready", body_check = 'body.ready == true' }]
"""
# Loads the config, then prints the times each outline cache file was written (renamed into place).
_COUNT_WRITES = (
    WATCH_FILES
    + """
import json
from pathlib import Path
from infradiag.config import load_config
load_config(Path(sys.argv[1]))
print(json.dumps({Path(p).name: n for p, n in REPLACED.items() if Path(p).name.startswith("cel-outlines-")}))
"""
)


@pytest.mark.process
def test_the_outline_cache_is_written_once_per_config_load(tmp_path: Path) -> None:
    config = tmp_path / "infradiag.toml"
    config.write_text(THREE_CHECKS)
    done = run_python(_COUNT_WRITES, str(config), cache_home=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    [(name, writes)] = json.loads(done.stdout).items()
    assert writes == 1
    kept = json.loads((tmp_path / "cache" / "infradiag" / name).read_text())
    assert set(kept) == {'body.status == "ok"', "size(body.checks) > 0", "body.ready == true"}
    again = run_python(_COUNT_WRITES, str(config), cache_home=tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {}, "written again although every check was remembered"
