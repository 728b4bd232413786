"""The JSON Schema shipped in the package: a valid draft 2020-12 schema that real reports meet and broken
ones do not."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from infradiag.report.schema import report_schema
from tests.conftest import SCENARIOS, run_cli
from tests.report.schema import assert_valid_report, schema_errors

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"


@pytest.fixture(scope="module")
def incident() -> dict[str, Any]:
    result = run_cli("triage", "--scenario", str(INCIDENT), "--format", "json")
    assert result.returncode == 1, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_the_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema"] == {"const": "infradiag.triage/v1"}


def test_the_incident_report_meets_the_schema(incident: dict[str, Any]) -> None:
    assert_valid_report(incident)


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("verdict",), "meh", "is not one of"),
        (("schema",), "infradiag.triage/v2", "was expected"),
        (("startedAt",), "yesterday", "does not match"),
        (("probes", 0, "outcome"), "http_503", "is not one of"),
        (("probes", 0, "ok"), True, "was expected"),  # ok with a failing outcome
        (("findings", 0, "priority"), "P4", "is not one of"),
        (("findings", 0, "cause"), "Saturated Connector", "does not match"),
        (("findings", 0, "resources"), [], "should be non-empty"),
        (("plan", 0, "rank"), 0, "less than the minimum"),
    ],
)
def test_a_broken_report_is_rejected(
    incident: dict[str, Any], path: tuple[str | int, ...], value: Any, complaint: str
) -> None:
    broken = copy.deepcopy(incident)
    node = broken
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    errors = schema_errors(broken)
    assert any(complaint in e for e in errors), errors


@pytest.mark.parametrize("field", ["findings", "unknowns", "durationMs", "probes"])
def test_a_report_missing_a_v1_field_is_rejected(incident: dict[str, Any], field: str) -> None:
    broken = {k: v for k, v in incident.items() if k != field}
    assert any(f"'{field}' is a required property" in e for e in schema_errors(broken))
