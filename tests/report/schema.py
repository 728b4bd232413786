"""Validate reports against the JSON Schema the package ships, with the jsonschema library."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from infradiag.report.schema import report_schema

VALIDATOR = Draft202012Validator(report_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(report: dict[str, Any]) -> list[str]:
    """Every way `report` breaks the v1 schema, as `path: message` lines."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in VALIDATOR.iter_errors(report)
    ]


def assert_valid_report(report: dict[str, Any]) -> None:
    """Fail the test with every schema violation listed."""
    errors = schema_errors(report)
    assert errors == [], "\n".join(errors)
