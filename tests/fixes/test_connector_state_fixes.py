"""Connector fixes read from the bundled scenarios: a recreated connector keeps its machine type and
instances (a bare create is 2-10 x e2-micro) and says what the delete risks; a new connector takes a /28
no other connector or subnet of its network holds, never the range another connector has."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import SCENARIOS
from tests.scenario_triage import group, triage

NOT_READY = SCENARIOS / "cause-vpc-connector-not-ready.yaml"
MISSING = SCENARIOS / "cause-vpc-connector-missing.yaml"


def fix(path: Path, cause: str) -> dict[str, Any]:
    [found] = [f for f in json.loads(triage(path).stdout)["findings"] if f["cause"] == cause]
    remediation: dict[str, Any] = found["remediation"]
    return remediation


@group(NOT_READY)
def test_a_recreated_connector_carries_its_machine_type_and_instances() -> None:
    found = fix(NOT_READY, "vpc_connector.not_ready")
    recreate = found["commands"][1]
    assert recreate.endswith(
        "--range 10.8.0.0/28 --machine-type e2-micro --min-instances 2 --max-instances 10"
    )
    assert "  max_instances = 10" in found["terraform"].splitlines()
    assert "taint" not in found["summary"] and "terraform apply -replace=" in found["summary"]
    assert found["risks"] == ["drops_traffic"] and found["wayBack"]


@group(MISSING)
def test_a_new_connector_does_not_take_the_range_another_connector_holds() -> None:
    found = fix(MISSING, "vpc_connector.missing")
    assert "--range 10.8.0.16/28" in found["commands"][0]
    assert '  ip_cidr_range = "10.8.0.16/28"' in found["terraform"].splitlines()
    assert "clear of 10.0.0.0/20, 10.8.0.0/28" in found["summary"]
