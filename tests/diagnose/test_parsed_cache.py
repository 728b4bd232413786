"""Playbook files parsed in an earlier start (infradiag/diagnose/parsed_cache.py): an unchanged playbook loads
the same without PyYAML, an edited one is parsed again, and errors still name their line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infradiag.diagnose.parsed_cache import ParsedCache, text_key
from infradiag.diagnose.playbook import PLAYBOOK_DIR, _ParsedBefore
from infradiag.yamlfile import load_yaml
from tests.user_cache import WATCH_FILES, run_python, unwritable_cache_home, use_cache_home

# Loads a playbook directory, then prints whether PyYAML was imported to do it and what was loaded.
_LOAD = """
import json, sys
from pathlib import Path
from infradiag.diagnose.playbook import load_playbooks
books = load_playbooks(Path(sys.argv[1]))
print(json.dumps(["yaml" in sys.modules, [b.model_dump(mode="json", exclude={"path"}) for b in books]]))
"""


def _load_in_fresh_interpreter(directory: Path, cache_home: Path) -> tuple[bool, list[object]]:
    done = run_python(_LOAD, str(directory), cache_home=cache_home)
    assert done.returncode == 0, done.stderr
    parsed, books = json.loads(done.stdout)
    return parsed, books


@pytest.mark.process
def test_unchanged_playbooks_load_the_same_without_parsing(tmp_path: Path) -> None:
    parsed, first = _load_in_fresh_interpreter(PLAYBOOK_DIR, tmp_path)
    assert parsed
    parsed, again = _load_in_fresh_interpreter(PLAYBOOK_DIR, tmp_path)
    assert not parsed, "PyYAML was loaded although no playbook changed"
    assert again == first


@pytest.mark.process
def test_an_edited_playbook_is_parsed_again(tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    playbook = folder / "sql.yaml"
    shutil.copy(PLAYBOOK_DIR / "sql.yaml", playbook)
    _load_in_fresh_interpreter(folder, tmp_path / "cache")
    text = playbook.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    playbook.write_text(text.replace(title, "title: Edited since"))
    parsed, [book] = _load_in_fresh_interpreter(folder, tmp_path / "cache")
    assert parsed and isinstance(book, dict) and book["title"] == "Edited since"


# Loads a playbook directory, then prints how many times each of its files was opened.
_COUNT_READS = (
    WATCH_FILES
    + """
import json
from pathlib import Path
from infradiag.diagnose.playbook import load_playbooks
folder = Path(sys.argv[1])
load_playbooks(folder)
print(json.dumps({path.name: OPENED[str(path)] for path in folder.glob("*.yaml")}))
"""
)


@pytest.mark.process
def test_each_playbook_file_is_read_once_parsed_or_not(tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for name in ("sql.yaml", "vpc-connector-saturation.yaml"):
        shutil.copy(PLAYBOOK_DIR / name, folder / name)
    once = {"sql.yaml": 1, "vpc-connector-saturation.yaml": 1}
    for start in ("parses them", "finds them parsed"):
        done = run_python(_COUNT_READS, str(folder), cache_home=tmp_path / "cache")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == once, f"the start that {start}"


def test_a_playbook_parsed_before_names_the_line_of_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    text = "id: x\ntitle: t\ntree:\n  question: q\n  answer: a\n  then:\n  - question: r\n"
    path.write_text(text)
    document = load_yaml(path, "playbook")
    before = _ParsedBefore(path, text, document.data)
    for loc in [("tree", "then", 0, "question"), ("tree", "answer"), ("id",)]:
        assert before.where(loc) == document.where(loc)
    assert before.where(("tree", "then", 0, "question")) == f"{path}:7"


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_cache_home(monkeypatch, tmp_path)


def test_only_what_json_gives_back_unchanged_is_kept(cache_home: Path) -> None:
    cache = ParsedCache()
    cache.put("keys", {1: "an int key"})
    cache.put("nan", {"value": float("nan")})
    cache.put("plain", {"id": "x", "confidence": 0.8, "on": True, "none": None, "list": [1, "a"]})
    cache.save()
    later = ParsedCache()
    assert later.get("keys") is None and later.get("nan") is None
    assert later.get("plain") == {"id": "x", "confidence": 0.8, "on": True, "none": None, "list": [1, "a"]}


def test_a_damaged_cache_counts_as_empty_and_is_rewritten(cache_home: Path) -> None:
    key = text_key("id: x\n")
    cache = ParsedCache()
    cache.put(key, {"id": "x"})
    cache.save()
    assert cache.path is not None
    cache.path.write_text('{"half a wri')
    damaged = ParsedCache()
    assert damaged.get(key) is None
    damaged.put(key, {"id": "x"})
    damaged.save()
    assert ParsedCache().get(key) == {"id": "x"}
    assert [p.name for p in cache_home.iterdir()] == [cache.path.name]  # no temporary file left


def test_without_a_writable_cache_directory_nothing_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cache_home(monkeypatch, unwritable_cache_home(tmp_path))
    cache = ParsedCache()
    cache.put("k", {"id": "x"})
    cache.save()  # nothing to write to: no error
    assert ParsedCache().get("k") is None
