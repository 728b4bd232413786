"""The JSON Schema of the v1 report (docs/report-format.md), shipped in the package."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_FILE = "triage-report.v1.json"


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every `--format json` report conforms to."""
    text = resources.files("infradiag").joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
