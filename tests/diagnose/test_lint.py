"""`infradiag playbooks lint` passes on the shipped playbooks and names file and line for each error kind."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import infradiag.diagnose.playbook
import infradiag.yamlfile
from infradiag.diagnose.catalog import CAUSES
from infradiag.diagnose.lint import lint_directory
from infradiag.diagnose.parsed_cache import ParsedCache
from infradiag.diagnose.playbook import PLAYBOOK_DIR, causes_of, load_playbooks
from infradiag.inputfile import read_text
from tests.conftest import ROOT, run_cli
from tests.user_cache import run_python, use_cache_home

CATALOG_DOC = ROOT / "docs" / "causes.md"


def test_shipped_playbooks_lint_clean() -> None:
    result = run_cli("playbooks", "lint")
    assert result.returncode == 0, result.stderr
    assert "playbooks OK" in result.stdout


def test_catalog_matches_the_spec() -> None:
    """docs/causes.md lists every id of the catalog once, with the catalog's meaning word for word."""
    rows = re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| ([^|]+?) \|", CATALOG_DOC.read_text(), flags=re.M)
    documented = [cause for cause, _ in rows]
    assert sorted(documented) == sorted(CAUSES), "docs/causes.md and infradiag/diagnose/catalog.py differ"
    assert {cause: meaning for cause, meaning in rows} == CAUSES


def test_every_cause_has_a_playbook_path() -> None:
    concluded = {cause for book in load_playbooks() for cause in causes_of(book.tree)}
    assert set(CAUSES) - concluded == set()


def _broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "playbooks"
    shutil.copytree(PLAYBOOK_DIR, folder)
    path = folder / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("sql.yaml", "cpu_high: has(db.cpu_max)", "cpu_high: has(db.cpu_max) &&", "invalid CEL"),
        ("sql.yaml", "cpu_high: has(db.cpu_max)", "cpu_high: has(db.cpu_maximum)", "no field `cpu_maximum`"),
        ("lb.yaml", "cause: lb.backend_timeout", "cause: lb.too_slow", "not in the catalog"),
        ("run-cold-start.yaml", "  evidence:\n", "  bogus: 1\n  evidence:\n", "bogus"),
    ],
)
def test_broken_copy_fails_with_file_and_line(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    path = _broken_copy(tmp_path, name, old, new)
    fragment = new.strip().splitlines()[0]
    result = run_cli("playbooks", "lint", "--dir", str(path.parent))
    assert result.returncode == 2
    assert f"{path}:{_line_of(path, fragment)}:" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_lint_reads_and_parses_each_sound_playbook_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A lint run reads each file once (load_playbook's read) and parses it once (with no earlier start's
    parse kept): neither the lines of a sound playbook nor its id need another."""
    use_cache_home(monkeypatch, tmp_path)
    monkeypatch.setattr(infradiag.diagnose.playbook, "_PARSED", ParsedCache())
    reads: list[Path] = []
    parses: list[Path] = []
    parse = infradiag.yamlfile._parse

    def counted_read(path: Path, *args: str) -> str:
        reads.append(path)
        return read_text(path, *args)

    def counted_parse(path: Path, text: str) -> infradiag.yamlfile.YamlDocument:
        parses.append(path)
        return parse(path, text)

    monkeypatch.setattr(infradiag.diagnose.playbook, "read_text", counted_read)
    monkeypatch.setattr(infradiag.yamlfile, "read_text", counted_read)
    monkeypatch.setattr(infradiag.yamlfile, "_parse", counted_parse)
    assert lint_directory(PLAYBOOK_DIR) == []
    shipped = sorted(PLAYBOOK_DIR.glob("*.yaml"))
    assert sorted(reads) == shipped
    assert sorted(parses) == shipped


def test_a_cycle_is_refused_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "loop.yaml").write_text(
        "id: loop\ntitle: t\ntree: &root\n  question: q\n  answer: a\n  then:\n  - *root\n"
    )
    result = run_cli("playbooks", "lint", "--dir", str(folder))
    assert result.returncode == 2
    assert f"{folder / 'loop.yaml'}:3:" in result.stderr and "cycle" in result.stderr


def test_show_and_list() -> None:
    listing = run_cli("playbooks", "list")
    assert listing.returncode == 0 and "vpc_connector.saturated" in listing.stdout
    shown = run_cli("playbooks", "show", "sql")
    assert shown.returncode == 0 and "sql.max_connections_exhausted" in shown.stdout
    assert run_cli("playbooks", "show", "nope").returncode == 2


def test_it_outside_an_evidence_list_is_refused_at_load(tmp_path: Path) -> None:
    """`it` is bound only in the detail of an evidence entry with `each`: without it the playbook would load
    and then fail on every run, leaving the causes it concludes unchecked."""
    path = _broken_copy(
        tmp_path, "lb.yaml", '          each: bs.backends.filter(b, b.kind == "serverless_neg")\n', ""
    )
    result = run_cli("playbooks", "lint", "--dir", str(path.parent))
    assert result.returncode == 2
    assert "reads `it`, which is not defined there" in result.stderr
    assert f"{path}:" in result.stderr and "Traceback" not in result.stderr


# Lints a playbook as `infradiag playbooks lint` does (lint imported before any parse), then prints the file
# celpy's parser was loaded from, if any.
_LINT = """
import sys
from pathlib import Path
from infradiag.diagnose.lint import lint_playbook
from celpy.celparser import CELParser
assert lint_playbook(Path(sys.argv[1])) == []
print(CELParser.CEL_PARSER.options.cache or "")
"""


@pytest.mark.process
def test_lint_parses_with_the_cached_parser(tmp_path: Path) -> None:
    for start in ("first", "next"):  # the next start's expressions are all remembered: only lint parses
        done = run_python(_LINT, str(PLAYBOOK_DIR / "sql.yaml"), cache_home=tmp_path)
        assert done.returncode == 0, done.stderr
        caches = [str(path) for path in (tmp_path / "infradiag").glob("cel-parser-*.cache")]
        assert caches == [done.stdout.strip()], f"the {start} start built a parser of its own"
