"""infradiag.toml: valid environments load; every mistake is a UsageError naming file, place and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradiag.config import load_config
from infradiag.errors import UsageError
from tests.conftest import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "infradiag.toml"
    path.write_text(text)
    return path


def test_repository_config_defines_staging_as_the_bundled_twin() -> None:
    config = load_config(ROOT / "infradiag.toml")
    staging = config.environment("staging")
    assert staging.twin == ROOT / "scenarios" / "staging-vpc-connector-saturation.yaml"
    assert staging.twin.is_file()


def test_real_project_with_overrides(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[environments.prod]\nproject = "acme-prod"\nregion = "europe-west1"\nservices = ["api"]\n'
            "[environments.prod.thresholds]\nconnector_cpu_saturated = 0.8\n",
        )
    )
    env = config.environment("prod")
    assert (env.project, env.region, env.services) == ("acme-prod", "europe-west1", ["api"])
    assert env.thresholds.connector_cpu_saturated == 0.8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[environments.x]\nproject = "p-123456"\n', "[environments.x]"),
        ('[environments.x]\ntwin = "a.yaml"\nregion = "r"\n', "remove `project`/`region`"),
        ('[environments.x]\ntwin = "a.yaml"\nhealth_pth = "/h"\n', "health_pth"),
        ("[environments.x\n", "invalid TOML"),
        (
            '[environments.x]\ntwin = "a.yaml"\n[environments.x.probes.web]\n'
            'paths = [{path = "/h", url = "https://web.example.com/h"}]\n',
            "not both",
        ),
        (
            '[environments.x]\ntwin = "a.yaml"\n[environments.x.probes.web]\npaths = ["ftp://web/h"]\n',
            "paths",
        ),
    ],
)
def test_mistakes_name_the_place(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_config(path)
    message = caught.value.one_line()
    assert str(path) in message and expected in message
    assert "\n" not in message


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(UsageError, match="staging"):
        load_config(ROOT / "infradiag.toml").environment("prod")
