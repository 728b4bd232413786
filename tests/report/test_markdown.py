"""The Markdown view: Mermaid blocks that Mermaid itself parses into the exact why chain, tables and code
blocks that a Markdown parser reads back intact, whatever characters the report holds."""

from __future__ import annotations

import atexit
import contextlib
import json
import re
import select
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from infradiag.report.markdown import mermaid_label, render_markdown
from infradiag.report.model import (
    ReportEvidence,
    ReportFinding,
    ReportPhases,
    ReportPlanStep,
    ReportProbe,
    ReportRemediation,
    ReportSuppression,
    ReportWhy,
    TriageReport,
)
from tests.conftest import ROOT, run_cli
from tests.report.reports import degraded_report, failing_probe

MERMAID_CHECK = Path(__file__).parent / "mermaid"
NASTY = 'say "hi" [x] (y) {z} <script>alert(1)</script> #1 a|b `tick` ```fence``` & end; %% --> \\ *_'


class _Mermaid:
    """One Node.js process running tests/report/mermaid/parse.mjs for this test process, started at its first
    use: loading jsdom and Mermaid takes seconds, each parse milliseconds."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        # A file, as a full pipe could block Node; open as long as this test process may start Node.
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115
        atexit.register(self.close)

    def parse(self, node: str, sources: list[str]) -> list[dict[str, Any]]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [node, str(MERMAID_CHECK / "parse.mjs")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
                text=True,
            )
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(sources) + "\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], MERMAID_TIMEOUT_S)
            line = process.stdout.readline() if ready else ""
        except BrokenPipeError:
            line = ""
        if not line:  # died or stuck: the next call starts another
            self.close()
            self.errors.seek(0)
            pytest.fail(f"Mermaid's parser gave no answer:\n{self.errors.read()[-4000:]}")
        parsed: list[dict[str, Any]] = json.loads(line)
        return parsed

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


_MERMAID = _Mermaid()
MERMAID_TIMEOUT_S = 180


def mermaid(sources: list[str]) -> list[dict[str, Any]]:
    """What Mermaid (Node.js, tests/report/mermaid) makes of each diagram source."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Mermaid check runs Mermaid on Node.js (CI installs it)")
    if not (MERMAID_CHECK / "node_modules" / "mermaid").is_dir():
        pytest.fail("Mermaid is not installed: run `npm ci --prefix tests/report/mermaid` (.ci/run does)")
    return _MERMAID.parse(node, sources)


def tokens(markdown: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(markdown)


def fences(markdown: str, language: str) -> list[str]:
    return [t.content.rstrip("\n") for t in tokens(markdown) if t.type == "fence" and t.info == language]


def tables(markdown: str) -> list[list[list[str]]]:
    """Each table as rows of cell texts (header row first)."""
    found: list[list[list[str]]] = []
    row: list[str] = []
    in_cell = False
    for token in tokens(markdown):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            in_cell = True
        elif token.type == "inline" and in_cell:
            row.append(token.content)
            in_cell = False
        elif token.type == "tr_close":
            found[-1].append(row)
    return found


def nasty_report() -> TriageReport:
    why = [
        ReportWhy(
            question=f"Why does {NASTY} fail?",
            answer=f"Because {NASTY}\nacross two lines",
            evidence=[ReportEvidence(source="probe", detail=NASTY)],
        ),
        ReportWhy(question="Why [again]?", answer='"quoted" <b>bold</b> #35;', evidence=[]),
    ]
    remediation = ReportRemediation(
        summary=f"Fix {NASTY}",
        commands=["gcloud run services update svc --update-env-vars 'A=```x```|y' --region r1"],
        terraform='resource "x" "y" { name = "a|b" }',
    )
    finding = ReportFinding(
        id="abc123",
        cause="app.error",
        priority="P1",
        title=f"Title {NASTY}",
        resources=["projects/p/locations/r1/services/a|b"],
        affected_services=["a|b", "c"],
        why=why,
        remediation=remediation,
        confidence=0.5,
        suppressed=ReportSuppression(reason=f"ok: {NASTY}", expires=date(2099, 1, 1), source="s.yaml:3"),
    )
    probe = ReportProbe(
        service="a|b",
        url="http://127.0.0.1:1/health",
        path="/health|x",
        ok=False,
        status=500,
        outcome="http_5xx",
        latency_ms=12.0,
        phases=ReportPhases(connect=1.0),
        detail=NASTY,
    )
    step = ReportPlanStep(
        rank=1,
        priority="P1",
        action=remediation.summary,
        findings=["abc123"],
        blast_radius=2,
        commands=remediation.commands,
        terraform=[remediation.terraform or ""],
    )
    return TriageReport(
        environment="stage|x",
        project="acme-staging",
        region="us-central1",
        started_at=datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC),
        duration_ms=5,
        verdict="degraded",
        probes=[probe],
        findings=[finding],
        plan=[step],
        unknowns=[],
    )


# `staging` in infradiag.toml is the twin of the incident scenario. Each triage of it waits out its slow
# probes (a second or so): each test asks only for what it reads.
@pytest.fixture(scope="module")
def incident_markdown() -> str:
    markdown = run_cli("triage", "staging", "--format", "markdown")
    assert markdown.returncode == 1, markdown.stderr
    return markdown.stdout


@pytest.fixture(scope="module")
def incident_report() -> dict[str, Any]:
    report: dict[str, Any] = json.loads(run_cli("triage", "staging", "--format", "json").stdout)
    return report


@pytest.fixture
def incident(incident_markdown: str, incident_report: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return incident_markdown, incident_report


def test_incident_mermaid_blocks_parse_into_the_why_chain(incident: tuple[str, dict[str, Any]]) -> None:
    markdown, report = incident
    blocks = fences(markdown, "mermaid")
    assert len(blocks) == len(report["findings"]) >= 1
    for finding, parsed in zip(report["findings"], mermaid(blocks), strict=True):
        assert parsed["ok"], parsed.get("error")
        assert parsed["type"] == "flowchart-v2"
        labels = set(parsed["labels"].values())
        for why in finding["why"]:
            assert why["question"] in labels
            assert why["answer"] in labels
        assert any(finding["cause"] in label and finding["priority"] in label for label in labels)


def test_incident_markdown_has_verdict_probe_table_and_copy_paste_plan(
    incident: tuple[str, dict[str, Any]],
) -> None:
    markdown, report = incident
    assert markdown.startswith("## infradiag: staging is DOWN\n")
    probe_table, plan_table = tables(markdown)
    assert probe_table[0] == ["service", "path", "outcome", "status", "latency", "detail"]
    assert len(probe_table) == 1 + len(report["probes"])
    assert {row[0] for row in probe_table[1:]} == {p["service"] for p in report["probes"]}
    assert plan_table[0][:3] == ["#", "priority", "action"]
    assert plan_table[1][:3] == ["1", "P0", report["plan"][0]["action"]]
    assert fences(markdown, "sh") == ["\n".join(step["commands"]) for step in report["plan"]]


def test_every_character_survives_mermaid_and_markdown() -> None:
    report = nasty_report()
    markdown = render_markdown(report)
    [block] = fences(markdown, "mermaid")
    [parsed] = mermaid([block])
    assert parsed["ok"], parsed.get("error")
    flat = {" ".join(text.split()) for text in parsed["labels"].values()}
    finding = report.findings[0]
    for why in finding.why:
        assert " ".join(why.question.split()) in flat
        assert " ".join(why.answer.split()) in flat
    # Tables keep their shape: the pipes in names and details did not split cells.
    probe_table, plan_table = tables(markdown)
    assert [len(row) for row in probe_table] == [6, 6]
    assert probe_table[1][0] == "a|b"
    assert [len(row) for row in plan_table] == [6, 6]
    # Commands paste exactly, backticks and all.
    assert fences(markdown, "sh") == finding.remediation.commands
    assert fences(markdown, "text") == [finding.remediation.terraform]
    # No raw HTML reaches the page from report text.
    assert not [t for t in tokens(markdown) if t.type == "html_inline" and "script" in t.content]
    assert "**Suppressed** until 2099-01-01" in markdown


def test_mermaid_label_escapes_what_mermaid_would_read_as_syntax() -> None:
    label = mermaid_label('a "b" #c <d> & `e`\nf')
    assert label == '"a #34;b#34; #35;c #60;d#62; #38; #96;e#96; f"'
    assert re.fullmatch(r'"[^"]*"', label)


def test_readme_shows_the_current_incident_markdown(incident_markdown: str) -> None:
    # The README pastes `./dev infradiag triage staging --format markdown`; paste it again when playbook
    # wording changes. Its diagrams must parse and show the incident's root cause.
    markdown = incident_markdown
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = fences(readme, "mermaid")
    assert shown, "README.md shows no Mermaid diagram"
    parsed = mermaid(shown)
    assert all(p["ok"] for p in parsed), parsed
    assert any("vpc_connector.saturated" in label for p in parsed for label in p["labels"].values())
    assert fences(markdown, "mermaid")[0].splitlines()[0] == shown[0].splitlines()[0] == "flowchart TD"


def test_each_command_stays_one_line_and_a_docs_link_stays_one_link() -> None:
    # A newline from outside text in a command would run the rest as a command of its own when pasted.
    report = nasty_report()
    step = report.plan[0].model_copy(update={"commands": ["echo 'down\nrm -rf ~'", "printf '\x1b[2J'"]})
    finding = report.findings[0]
    remediation = finding.remediation.model_copy(update={"docs": "https://example.com/a b>c<d"})
    finding = finding.model_copy(update={"remediation": remediation})
    markdown = render_markdown(report.model_copy(update={"plan": [step], "findings": [finding]}))
    assert fences(markdown, "sh") == ["echo 'down\\nrm -rf ~'\nprintf '\\x1b[2J'"]
    links = [
        child.attrGet("href")
        for token in tokens(markdown)
        if token.type == "inline"
        for child in token.children or []
        if child.type == "link_open"
    ]
    assert links == ["https://example.com/a%20b%3Ec%3Cd"]


def test_a_service_without_url_heads_the_probe_table_as_failing() -> None:
    report = degraded_report(probes=[failing_probe("auth", "500")])
    report = report.model_copy(update={"services_without_url": ["billing"]})
    shown = render_markdown(report)
    assert "not probed (no URL): billing" in shown.splitlines()[2]
    rows = [line for line in shown.splitlines() if line.startswith("| ") and "service" not in line]
    assert rows[0].startswith("| billing | - | **`no_url`** |")
    assert rows[1].startswith("| auth |")
