"""A threshold override in infradiag.toml (`[environments.NAME.thresholds]`) changes the diagnosis: the same
twin scenario triaged with the default and with a raised connector CPU warning line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import SCENARIOS, run_cli

HEADROOM = SCENARIOS / "healthy-connector-headroom-nearly-gone.yaml"  # connector CPU p95 0.895, nothing fails


def triage(tmp_path: Path, thresholds: str) -> dict[str, Any]:
    config = tmp_path / "infradiag.toml"
    config.write_text(f'[environments.staging]\ntwin = "{HEADROOM}"\n\n{thresholds}')
    result = run_cli("triage", "--config", str(config), "staging", "--format", "json", "--fail-on", "P2")
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    report["exit_code"] = result.returncode
    return report


def test_raising_the_cpu_warning_line_past_the_connectors_cpu_clears_the_headroom_finding(
    tmp_path: Path,
) -> None:
    default = triage(tmp_path, "")
    [headroom] = [f for f in default["findings"] if f["cause"] == "vpc_connector.saturated"]
    assert headroom["priority"] == "P2"
    assert "(warning at 0.80, saturated at 0.90)" in json.dumps(headroom["why"])
    assert default["exit_code"] == 1  # --fail-on P2

    raised = triage(tmp_path, "[environments.staging.thresholds]\nconnector_cpu_warning = 0.95\n")
    assert [f for f in raised["findings"] if f["cause"] == "vpc_connector.saturated"] == []
    assert raised["verdict"] == "healthy" and raised["exit_code"] == 0


def test_lowering_the_cpu_warning_line_is_shown_in_the_evidence(tmp_path: Path) -> None:
    lowered = triage(tmp_path, "[environments.staging.thresholds]\nconnector_cpu_warning = 0.5\n")
    [headroom] = [f for f in lowered["findings"] if f["cause"] == "vpc_connector.saturated"]
    assert "(warning at 0.50, saturated at 0.90)" in json.dumps(headroom["why"])
