"""Probe settings are defined once (ProbeSettings): the config's keys and defaults, what a Target carries,
and the probe engine's own defaults are the same, and every key of an environment reaches the target."""

from __future__ import annotations

import inspect
from pathlib import Path

from infradiag.commands.common import open_target
from infradiag.config.model import EnvironmentConfig, ProbeSettings
from infradiag.probe import probe_all
from infradiag.target import Target

HEAD = '[environments.prod]\nproject = "acme-prod"\nregion = "europe-west1"\n'
# probe_all's keyword -> the ProbeSettings key it takes its default from.
ENGINE_KEYWORDS = {
    "timeout_s": "probe_timeout_s",
    "concurrency": "probe_concurrency",
    "max_body_bytes": "probe_max_body_bytes",
    "max_redirects": "probe_max_redirects",
    "confirm": "probe_confirm",
}


def write(tmp_path: Path, body: str = "") -> Path:
    path = tmp_path / "infradiag.toml"
    path.write_text(HEAD + body)
    return path


def test_a_config_without_probe_keys_gives_the_engine_its_defaults(tmp_path: Path) -> None:
    with open_target("prod", None, write(tmp_path)) as target:
        settings = target.probe
    assert settings == ProbeSettings() == Target(environment="e", project="p", region="r").probe
    engine = inspect.signature(probe_all).parameters
    for keyword, key in ENGINE_KEYWORDS.items():
        assert engine[keyword].default == getattr(settings, key), keyword


def test_every_probe_key_of_an_environment_reaches_the_target(tmp_path: Path) -> None:
    body = (
        'health_path = "/healthz"\nprobe_timeout_s = 3.5\nprobe_concurrency = 8\n'
        "probe_max_body_bytes = 1024\nprobe_max_redirects = 0\nprobe_confirm = true\n"
        'auth = "env:TOKEN"\n[environments.prod.probes.api]\nexpect_status = 204\n'
    )
    path = write(tmp_path, body)
    with open_target("prod", None, path) as target:
        settings = target.probe
    expected = {
        "health_path": "/healthz",
        "probe_timeout_s": 3.5,
        "probe_concurrency": 8,
        "probe_max_body_bytes": 1024,
        "probe_max_redirects": 0,
        "probe_confirm": True,
        "auth": "env:TOKEN",
    }
    assert {key: getattr(settings, key) for key in expected} == expected
    assert settings.probes["api"].expect_status == 204
    # Every key set differs from its default, so a key dropped on the way would show.
    assert set(expected) | {"probes"} == set(ProbeSettings.model_fields)
    assert all(getattr(ProbeSettings(), key) != value for key, value in expected.items())


def test_the_environment_table_takes_every_probe_key() -> None:
    assert set(ProbeSettings.model_fields) <= set(EnvironmentConfig.model_fields)
