"""Text from outside is printed literally in every format: a real triage of a twin whose Cloud Run condition
message, service label, health bodies and config carry markup of every view (Rich, Markdown, HTML, Mermaid,
XML) and control characters; each view shows that text as it is, and nothing crashes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml
from junitparser import JUnitXml, TestCase
from markdown_it.token import Token

from tests.conftest import SCENARIOS, run_cli
from tests.report.test_markdown import fences, mermaid, tokens

PIECES = (
    "[bold]x[/bold]",  # Rich markup
    "[/]",
    "[link=http://x]y[/link]",
    "[private-project]",
    ":thumbs_up:",  # a Rich emoji code
    "**x**",  # Markdown
    "`",
    "```",
    "|",
    "[a](http://b)",
    "<b>",  # HTML
    "<!--",
    "<script>",
    "<details>",
    '"',  # Mermaid
    "-->",
    "end",
    "#quot;",
    "]]>",  # XML
    "&amp;",
    "<",
    "\x1b[31m",  # control characters
    "\x1b[2J",
    "\r",
    "\x00",
    "\x07",
    "\u202e",
)
HOSTILE = " ".join(PIECES) + " ok"
# A Cloud Run message names the project in brackets; Rich took it for a style and dropped it.
MESSAGE = f"image is from project [private-project] and cannot be pulled: {HOSTILE}"
DEPENDENCY = f"db {HOSTILE}"
NOTE_CHECK = 'body.note == "fine [/] <!--"'
WORKER_PATH = "/health?q=[/bold]"

# How the terminal and Markdown views show the control characters (README, "Reports").
SHOWN = {"\x1b": "\\x1b", "\r": "\\r", "\x00": "\\x00", "\x07": "\\x07", "\u202e": "\\u202e"}
# JUnit keeps what XML 1.0 can carry (carriage return, U+202E) and shows the rest.
XML_SHOWN = {"\x1b": "\\x1b", "\x00": "\\x00", "\x07": "\\x07"}
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")


def shown(text: str, table: dict[str, str] = SHOWN) -> str:
    return "".join(table.get(char, char) for char in text)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def _scenario() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SCENARIOS / "cause-run-revision-not-ready.yaml").read_text())
    doc["name"] = "hostile-text"
    doc.pop("expect")
    for service in doc["run"]["services"]:
        if service["name"].endswith("/admin"):
            service["terminalCondition"]["message"] = MESSAGE
            service["labels"] = {"team": HOSTILE}
    for revision in doc["run"]["revisions"]:
        for condition in revision["conditions"]:
            if "message" in condition:
                condition["message"] = MESSAGE
    doc["endpoints"]["admin"] = {"*": {"status": 503, "body": HOSTILE}}
    doc["endpoints"]["backend"] = {
        "*": {"status": 503, "json": {"status": "error", DEPENDENCY: f"down {HOSTILE}"}}
    }
    doc["endpoints"]["worker"] = {"*": {"status": 200, "json": {"status": "ok", "note": HOSTILE}}}
    return doc


def _run(folder: Path, *args: str) -> Run:
    result = run_cli(*args, cwd=folder, env={"COLUMNS": "5000"})  # wide: no line is wrapped
    # Strict encoding: the output must be valid UTF-8 (no lone surrogate), whatever the services sent.
    result.stdout.encode()
    result.stderr.encode()
    return Run(result.returncode, result.stdout, result.stderr)


class World:
    """The twin's config, and each run of it, made the first time a test looks at it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def junit(self) -> Path:
        _finished(self.terminal)  # the run that writes it
        return self.folder / "junit.xml"

    @cached_property
    def terminal(self) -> Run:
        return _run(self.folder, "triage", "hostile", "--junit", "junit.xml")

    @cached_property
    def json(self) -> Run:
        return _run(self.folder, "triage", "hostile", "--format", "json")

    @cached_property
    def markdown(self) -> Run:
        return _run(self.folder, "triage", "hostile", "--format", "markdown")

    @cached_property
    def probe_terminal(self) -> Run:
        return _run(self.folder, "probe", "hostile")

    @cached_property
    def probe_json(self) -> Run:
        return _run(self.folder, "probe", "hostile", "--format", "json")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "hostile.yaml").write_text(yaml.safe_dump(_scenario()))
    (folder / "infradiag.toml").write_text(
        "[environments.hostile]\n"
        'twin = "hostile.yaml"\n'
        "[environments.hostile.probes.worker]\n"
        f'paths = ["{WORKER_PATH}"]\n'
        f"body_check = '{NOTE_CHECK}'\n"
    )
    return World(folder)


def _finished(run: Run) -> None:
    # 1 is the documented code here (P1 findings, failing probes); a crash exits 1 too, with a traceback.
    assert run.code == 1, run.stderr
    assert "Traceback" not in run.stderr, run.stderr


def test_terminal_report_shows_condition_messages_and_bodies_literally(world: World) -> None:
    _finished(world.terminal)
    out = world.terminal.stdout
    assert f"It did not become ready: {shown(MESSAGE)}" in out
    assert f"condition Ready: CONDITION_FAILED (REVISION_FAILED): {shown(MESSAGE)}" in out
    assert f"backend reports {shown(DEPENDENCY)} failing" in out
    action = f"Fix the failing revision of admin ({shown(MESSAGE)}) and redeploy"
    assert f"# 1. {action}" in out  # the copy-pasteable fixes
    assert WORKER_PATH in out
    assert f"body check `{NOTE_CHECK}` failed" in out
    assert not RAW_CONTROL.search(out)
    assert "👍" not in out  # :thumbs_up: is text, not an emoji code


def test_probe_table_shows_paths_and_checks_literally(world: World) -> None:
    _finished(world.probe_terminal)
    out = world.probe_terminal.stdout
    assert re.search(rf"│ {re.escape(WORKER_PATH)}\s+│ assertion_failed", out)
    assert f'body check `{NOTE_CHECK}` failed: note = "[bold]x[/bold] [/] [link=http://x]y[/link]' in out
    assert not RAW_CONTROL.search(out)


def test_json_report_and_probe_json_carry_the_exact_strings(world: World) -> None:
    _finished(world.json)
    report = json.loads(world.json.stdout)
    findings = {f["cause"]: f for f in report["findings"]}
    revision = findings["run.revision_not_ready"]
    assert revision["why"][1]["answer"] == f"It did not become ready: {MESSAGE}"
    assert f"condition Ready: CONDITION_FAILED (REVISION_FAILED): {MESSAGE}" in [
        e["detail"] for e in revision["why"][1]["evidence"]
    ]
    assert findings["app.dependency_failing"]["title"] == f"backend reports {DEPENDENCY} failing"
    _finished(world.probe_json)
    probes = {p["service"]: p for p in json.loads(world.probe_json.stdout)["probes"]}
    assert probes["backend"]["bodyJson"] == {"status": "error", DEPENDENCY: f"down {HOSTILE}"}
    assert probes["worker"]["path"] == WORKER_PATH
    # The excerpt collapses whitespace (carriage return included) and keeps every other character.
    assert probes["admin"]["bodyExcerpt"] == " ".join(HOSTILE.split())


def _rendered(inline: Token) -> str:
    """What a reader sees of an inline token: its text and code, with any HTML or link made conspicuous."""
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type in ("html_inline", "link_open", "image"):
            parts.append(f"<{child.type}>")
    return "".join(parts)


def _inline_after(all_tokens: list[Token], opening: str) -> list[str]:
    return [_rendered(all_tokens[i + 1]) for i, t in enumerate(all_tokens) if t.type == opening]


def _table_rows(all_tokens: list[Token]) -> list[list[str]]:
    rows: list[list[str]] = []
    for i, token in enumerate(all_tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type in ("th_open", "td_open"):
            rows[-1].append(_rendered(all_tokens[i + 1]))
    return rows


def test_markdown_report_reads_back_as_the_same_text(world: World) -> None:
    _finished(world.markdown)
    document = world.markdown.stdout
    assert not RAW_CONTROL.search(document)
    parsed = tokens(document)
    assert f"2. P1 · backend reports {shown(DEPENDENCY)} failing" in _inline_after(parsed, "heading_open")
    rows = _table_rows(parsed)
    action = f"Fix the failing revision of admin ({shown(MESSAGE)}) and redeploy"
    assert ["1", "P1", action] in [r[:3] for r in rows]
    [worker] = [r for r in rows if r[0] == "worker"]
    assert worker[1] == WORKER_PATH
    assert f"body check `{NOTE_CHECK}` failed" in worker[5]
    items = _inline_after(parsed, "paragraph_open")
    assert f"Why is admin's newest revision not serving? It did not become ready: {shown(MESSAGE)}" in items
    assert f"Step 1: {action}" in _inline_after(parsed, "heading_open")
    # The only HTML is the report's own <details> blocks; no outside text became a tag, a link or a comment.
    assert not [t for t in parsed if t.type == "html_inline"]
    assert {t.content.strip() for t in parsed if t.type == "html_block"} <= {
        "<details><summary>Evidence</summary>",
        "</details>",
    }
    links = [
        t.attrGet("href")
        for t in parsed
        if t.type == "inline"
        for t in t.children or []
        if t.type == "link_open"
    ]
    assert links and all(str(href).startswith("https://cloud.google.com/") for href in links)


def test_mermaid_accepts_every_label_and_shows_it_intact(world: World) -> None:
    diagrams = fences(world.markdown.stdout, "mermaid")
    assert len(diagrams) == 3
    results = mermaid(diagrams)
    assert all(r["ok"] for r in results), results
    labels = {label for r in results for label in r["labels"].values()}
    assert f"It did not become ready: {shown(MESSAGE)}" in labels
    assert f"P1 root cause app.dependency_failing: backend reports {shown(DEPENDENCY)} failing" in labels


def test_junit_parses_and_keeps_what_xml_can_carry(world: World) -> None:
    _finished(world.terminal)
    ET.parse(world.junit)  # well-formed for the standard library's parser too
    suites = {suite.name: suite for suite in JUnitXml.fromfile(str(world.junit))}
    cases: dict[str, TestCase] = {case.name: case for case in suites["infradiag.findings"]}
    dependency = f"P1 app.dependency_failing: backend reports {shown(DEPENDENCY, XML_SHOWN)} failing"
    assert dependency in cases  # an attribute: the carriage return survives as a reference
    revision = cases["P1 run.revision_not_ready: The newest revision of admin is not ready"]
    text = revision.result[0].text or ""
    assert f"It did not become ready: {shown(MESSAGE, XML_SHOWN)}" in text  # element text, \r and U+202E kept
    probes = {case.name: case for case in suites["infradiag.probes"]}
    assert f"body check `{NOTE_CHECK}` failed" in (probes["worker"].result[0].message or "")
