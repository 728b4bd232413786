"""A body check compiled when the config loads is remembered (cel.outline_cache): the next start loads the
same config without parsing it (no celpy, no lark), and a check that does not compile is still refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    return subprocess.run(
        [sys.executable, "-c", _LOAD, str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home)},
        check=False,
        timeout=120,
    )


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
