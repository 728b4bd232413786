"""`[environments.NAME.alerting] notification_channels`: the channels an alert-gap fix's policy notifies;
checked at load, and put in the policy the triage proposes (or the fix says that one is needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infradiag.config import load_config
from infradiag.errors import UsageError
from tests.conftest import SCENARIOS, run_cli

INCIDENT = SCENARIOS / "staging-incident-full.yaml"  # its connector's saturation has no alert on it
CHANNEL = "projects/acme-staging/notificationChannels/4711"


def config(tmp_path: Path, alerting: str) -> Path:
    path = tmp_path / "infradiag.toml"
    path.write_text(f'[environments.staging]\ntwin = "{INCIDENT}"\n\n{alerting}')
    return path


def test_channels_load_by_their_full_resource_name(tmp_path: Path) -> None:
    loaded = load_config(
        config(tmp_path, f'[environments.staging.alerting]\nnotification_channels = ["{CHANNEL}"]\n')
    )
    assert loaded.environment("staging").alerting.notification_channels == [CHANNEL]
    assert load_config(config(tmp_path, "")).environment("staging").alerting.notification_channels == []


@pytest.mark.parametrize(
    ("alerting", "expected"),
    [
        ('notification_channels = ["4711"]', "notification_channels"),
        ('notification_chanels = ["x"]', "notification_chanels"),
    ],
)
def test_a_channel_that_is_no_resource_name_is_one_line_naming_the_key(
    tmp_path: Path, alerting: str, expected: str
) -> None:
    path = config(tmp_path, f"[environments.staging.alerting]\n{alerting}\n")
    with pytest.raises(UsageError) as caught:
        load_config(path)
    message = caught.value.one_line()
    assert str(path) in message and expected in message and "alerting" in message
    assert "\n" not in message


def alert_fix(path: Path) -> dict[str, Any]:
    result = run_cli("triage", "--config", str(path), "staging", "--format", "json")
    assert result.returncode == 1, result.stderr
    [gap] = [f for f in json.loads(result.stdout)["findings"] if f["cause"] == "monitoring.alert_gap"]
    remediation: dict[str, Any] = gap["remediation"]
    return remediation


def test_the_proposed_policy_notifies_the_configured_channel(tmp_path: Path) -> None:
    fix = alert_fix(
        config(tmp_path, f'[environments.staging.alerting]\nnotification_channels = ["{CHANNEL}"]\n')
    )
    assert fix["request"]["body"]["notificationChannels"] == [CHANNEL]
    assert "no notification channel" not in fix["summary"]


def test_without_a_channel_the_fix_says_one_is_needed(tmp_path: Path) -> None:
    fix = alert_fix(config(tmp_path, ""))
    assert "notificationChannels" not in fix["request"]["body"]
    assert "no notification channel is configured (alerting.notification_channels" in fix["summary"]
