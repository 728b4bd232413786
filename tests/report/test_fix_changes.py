"""A fix made of a typed change, in every view: the JSON carries its request, fields and risks within the v1
schema; the terminal, Markdown and JUnit show the risks, the way back, each field as current -> proposed,
and the Terraform block whole."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import hcl2
from rich.console import Console

from infradiag.diagnose.findings import Citation, Fix, Why
from infradiag.evidence import Evidence
from infradiag.fixes import FieldChange, Risk, build_change, gcloud_command, terraform_block
from infradiag.plan import make_plan
from infradiag.report.build import build_report
from infradiag.report.junit import junit_xml
from infradiag.report.markdown import render_markdown
from infradiag.report.model import TriageReport
from infradiag.report.terminal import render
from tests.report.reports import diagnosed
from tests.report.schema import assert_valid_report
from tests.report.test_markdown import fences

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)
INSTANCE = "projects/p/instances/db"
FLAGS = [{"name": "log_connections", "value": "on"}]


def _report() -> TriageReport:
    change = build_change(
        "sqladmin",
        "instances.patch",
        INSTANCE,
        [
            FieldChange(
                field="settings.databaseFlags",
                current=FLAGS,
                proposed=[*FLAGS, {"name": "max_connections", "value": "62"}],
                why="peak 49 stays under 80 %",
            )
        ],
        {"region": "r1", "databaseVersion": "POSTGRES_15", "settings.tier": "db-custom-1-3840"},
        [Risk.RESTARTS],
        "set max_connections back to 50 (restarts again)",
    )
    fix = Fix(
        summary="Raise max_connections of db to 62",
        commands=[gcloud_command(change)],
        terraform=terraform_block(change),
        risks=[Risk.RESTARTS],
        way_back=change.way_back,
        change=change,
    )
    why = Why(question="Room?", answer="No", evidence=[Citation(source="sql", detail="98 of 100")])
    finding = diagnosed(
        "sql.max_connections_exhausted", "P1", "db is out of connections", INSTANCE, ["api"], why, fix
    )
    evidence = Evidence(project="p", region="r1", now=NOW)
    return build_report("staging", evidence, [finding], make_plan([finding]), "degraded", NOW, 5)


def test_the_json_carries_the_request_the_fields_and_the_risks() -> None:
    data = _report().to_json_dict()
    assert_valid_report(data)
    remediation = data["findings"][0]["remediation"]
    assert remediation["risks"] == ["restarts"]
    assert remediation["wayBack"] == "set max_connections back to 50 (restarts again)"
    assert remediation["changes"] == [
        {
            "field": "settings.databaseFlags",
            "current": FLAGS,
            "proposed": [*FLAGS, {"name": "max_connections", "value": "62"}],
            "why": "peak 49 stays under 80 %",
        }
    ]
    assert remediation["request"] == {
        "api": "sqladmin",
        "method": "instances.patch",
        "resource": INSTANCE,
        "body": {"settings": {"databaseFlags": [*FLAGS, {"name": "max_connections", "value": "62"}]}},
    }
    assert data["plan"][0]["risks"] == ["restarts"]
    assert TriageReport.model_validate(data) == _report()  # read back as it was written


def test_the_terminal_shows_risks_way_back_and_the_changed_flag() -> None:
    out = io.StringIO()
    render(_report(), Console(file=out, width=400, color_system=None))
    text = out.getvalue()
    assert "risks: restarts the resource: open connections drop while it restarts" in text
    assert "# way back: set max_connections back to 50 (restarts again)" in text
    assert "settings.databaseFlags: max_connections not set -> 62, 1 other entry kept" in text
    assert (
        "gcloud sql instances patch db --project p --database-flags log_connections=on,max_connections=62"
        in text
    )
    # The block is a file's content: named, and whole in the Markdown (test below).
    assert '\n# terraform: resource "google_sql_database_instance" "db" (--format markdown)\n' in text


def test_markdown_shows_the_risks_and_an_hcl_block_that_parses() -> None:
    markdown = render_markdown(_report())
    assert "**Risks:** restarts the resource" in markdown
    assert "| `restarts` |" in markdown  # the plan table's risks column
    [block] = fences(markdown, "hcl")
    parsed = hcl2.loads(block)
    assert "resource" in parsed


def test_junit_puts_the_risks_in_the_failing_findings_text() -> None:
    root = ET.fromstring(junit_xml(_report(), "P1", "staging"))
    [failure] = root.iter("failure")
    assert failure.text is not None
    assert "  risks: restarts the resource" in failure.text
    assert "  change settings.databaseFlags: max_connections not set -> 62" in failure.text
    assert '    resource "google_sql_database_instance" "db" {' in failure.text
