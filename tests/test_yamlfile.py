"""YAML inputs load within bounds (depth, aliases, tags, characters) or end in one line with file and line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from infradiag import yamlfile
from infradiag.errors import UsageError
from infradiag.yamlfile import MAX_ALIAS_NODES, MAX_DEPTH, load_yaml
from tests.conftest import ROOT

# The classic "billion laughs": nine levels of nine aliases, about 520 bytes, 9**9 strings once expanded.
BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 9)}]\n" for i in range(1, 9)
)


def write(tmp_path: Path, text: str, name: str = "input.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refusal(path: Path) -> UsageError:
    with pytest.raises(UsageError) as caught:
        load_yaml(path)
    assert "\n" not in caught.value.one_line()
    assert caught.value.where.startswith(f"{path}")
    assert caught.value.fix
    return caught.value


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth + "\n"


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_libyaml_parses_with_values_and_lines_as_written(tmp_path: Path) -> None:
    # The pure-Python reader's time grows with the square of a scalar's length (50 MB: minutes).
    assert yamlfile._LOADER is yaml.CSafeLoader
    path = write(
        tmp_path,
        """\
        now: 2026-09-15T23:06:52Z
        day: 2026-09-15
        run:
          services:
          - name: backend
            port: 8080
          - name: auth
            ready: true
        """,
    )
    doc = load_yaml(path)
    assert doc.data["now"] == "2026-09-15T23:06:52Z"  # timestamps stay the strings Google sends
    assert doc.data["day"] == "2026-09-15"
    assert doc.data["run"]["services"][1] == {"name": "auth", "ready": True}
    assert doc.line_of(("run", "services", 1, "ready")) == 8
    assert doc.line_of(("run", "services", 0, "port")) == 6
    assert doc.line_of(("run", "services", 7, "name")) == 4  # missing: the nearest ancestor
    assert doc.where(("day",)) == f"{path}:2"
    broken = write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n", "broken.yaml")
    error = refusal(broken)
    assert error.problem.startswith("invalid YAML")
    assert error.where in (f"{broken}:3", f"{broken}:4")


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_DEPTH + 1),
        nested(900),
        "[" * 20_000,
        "- " * 20_000 + "x\n",
        "".join(" " * i + f"k{i}:\n" for i in range(150)),
    ],
    ids=["flow 101", "flow 900", "unclosed 20000", "block 20000", "block 150"],
)
def test_nesting_is_bounded(tmp_path: Path, text: str) -> None:
    assert load_yaml(write(tmp_path, nested(MAX_DEPTH), "deepest.yaml")).data is not None
    error = refusal(write(tmp_path, text))
    assert error.problem == f"nesting deeper than {MAX_DEPTH} levels"
    assert f"at most {MAX_DEPTH} deep" in str(error.fix)


def test_the_pure_python_loader_also_refuses_deep_nesting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlfile, "_LOADER", yaml.SafeLoader)
    # Deeper than the interpreter's recursion limit, as the composer recurses once per level at least (the
    # scanner is quadratic in the depth here: 20,000 levels took ten seconds).
    deep = "[" * sys.getrecursionlimit()
    assert refusal(write(tmp_path, deep)).problem == f"nesting deeper than {MAX_DEPTH} levels"
    assert load_yaml(write(tmp_path, "a: &x {b: 1}\nc: *x\n")).data == {"a": {"b": 1}, "c": {"b": 1}}


def test_the_alias_bomb_is_refused_in_a_process_that_could_not_hold_it(tmp_path: Path) -> None:
    modest = write(tmp_path, "base: &base {cpu: '1', memory: 512Mi}\nrun: [*base, *base]\n", "modest.yaml")
    assert load_yaml(modest).data["run"] == [{"cpu": "1", "memory": "512Mi"}] * 2
    path = write(tmp_path, BOMB)
    assert len(BOMB) < 600
    # Expanded, the bomb is a billion strings: the child gets 1 GiB of address space beyond what it has
    # after imports, so a loader that expands it fails with MemoryError (or the timeout) instead of
    # taking the machine with it.
    code = textwrap.dedent(f"""
        import resource
        from pathlib import Path
        from infradiag.errors import UsageError
        from infradiag.yamlfile import load_yaml
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        limit = pages * resource.getpagesize() + 2**30
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            load_yaml(Path({str(path)!r}))
        except UsageError as error:
            print(error.one_line())
    """)
    if not Path("/proc/self/statm").exists():
        pytest.skip("needs /proc to bound the child's memory")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"aliases expand to more than {MAX_ALIAS_NODES} nodes" in result.stdout


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: !foo x\n", 2, "unsupported tag '!foo'"),
        ("a: 1\nb: !!python/object:os.system x\n", 2, "unsupported tag"),
        ("a: &x {b: 1}\nc:\n  <<: *x\n", 3, "merge keys (<<) are not supported"),
        ("? [a, b]\n: c\n", 1, "a key must be a plain value"),
        ("a: 1\nb: " + "9" * 5000 + "\n", 2, "tag:yaml.org,2002:int value"),
        ("a: !!float nope\n", 1, "tag:yaml.org,2002:float value"),
        ("a: 1\nb: x\x01y\n", 2, "control character U+0001 at line 2, column 5"),
        ("a: 1\nb: x\x7fy\n", 2, "control character U+007F"),
    ],
)
def test_what_yaml_could_mean_but_we_do_not_read_is_refused_with_its_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "input.yaml"
    path.write_text(text, encoding="utf-8")
    error = refusal(path)
    assert error.where == f"{path}:{line}"
    assert words in error.problem


def test_a_nul_or_a_bad_byte_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "input.yaml"
    path.write_bytes(b"a: 1\nb: \x00\n")
    assert refusal(path).where == f"{path}:2"
    path.write_bytes(b"a: 1\nb: 2\nc: \xff\xfe\n")
    error = refusal(path)
    assert (error.where, error.problem) == (f"{path}:3", "not UTF-8 text: byte 0xff at line 3, column 4")


def test_text_already_read_is_parsed_as_the_file_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "read-before.yaml"  # not on disk: only the text given is parsed
    document = load_yaml(path, "playbook", "id: x\ntree:\n  answer: a\n")
    assert document.data == {"id": "x", "tree": {"answer": "a"}}
    assert document.where(("tree", "answer")) == f"{path}:3"
    with pytest.raises(UsageError) as caught:
        load_yaml(path, "playbook", "id: x\nb: x\x01y\n")
    assert caught.value.where == f"{path}:2"
