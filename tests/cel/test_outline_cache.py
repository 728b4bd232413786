"""CEL outlines kept across processes (infradiag/cel/outline_cache.py): an expression that compiled before
is parsed only when first evaluated, evaluates as a fresh one does, and a damaged or unwritable cache only
costs the parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infradiag.cel import CelCompileError, CelEvalError
from infradiag.cel.expression import Dialect
from tests.user_cache import run_python, unwritable_cache_home, use_cache_home

SOURCE = "services.filter(s, s.failing).size() > limit"
ACTIVATION = {"services": [{"failing": True}, {"failing": False}, {"failing": True}], "limit": 1}


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_cache_home(monkeypatch, tmp_path)


def _remembered(home: Path) -> dict[str, list[object]]:
    [path] = home.glob("cel-outlines-*.json")
    data: dict[str, list[object]] = json.loads(path.read_text())
    return data


def test_a_remembered_expression_is_parsed_on_first_evaluation_only(cache_home: Path) -> None:
    first = Dialect()
    fresh = first.compile_expression(SOURCE)
    first.remember()
    assert SOURCE in _remembered(cache_home)

    later = Dialect()
    known = later.compile_expression(SOURCE)
    assert "program" not in known.__dict__, "parsed at load although its outline was remembered"
    assert (known.names, known.free, known.result_type) == (fresh.names, fresh.free, fresh.result_type)
    assert known.free == {"services", "limit"} and known.result_type == "bool"
    assert known.is_true(ACTIVATION) is fresh.is_true(ACTIVATION) is True
    assert "program" in known.__dict__


def test_an_expression_that_does_not_compile_is_never_remembered(cache_home: Path) -> None:
    dialect = Dialect()
    with pytest.raises(CelCompileError):
        dialect.compile_expression("services.filter(s, ")
    dialect.compile_expression("1 + 1 == 2")
    dialect.remember()
    assert list(_remembered(cache_home)) == ["1 + 1 == 2"]
    with pytest.raises(CelCompileError):  # still refused at load in the next process
        Dialect().compile_expression("services.filter(s, ")


def test_each_dialect_keeps_its_own_outlines(cache_home: Path) -> None:
    """An expression calling a helper of one dialect must still be refused by a dialect without it."""
    helper = Dialect({"twice": lambda value: value * 2})
    helper.compile_expression("twice(limit) > 1")
    helper.remember()
    with pytest.raises(CelCompileError):
        Dialect().compile_expression("twice(limit) > 1")


@pytest.mark.parametrize("damage", ['{"half a write', "[1, 2]", '{"x": 3}'], ids=["cut", "list", "entry"])
def test_a_damaged_cache_is_rebuilt(cache_home: Path, damage: str) -> None:
    first = Dialect()
    first.compile_expression(SOURCE)
    first.remember()
    [path] = cache_home.glob("cel-outlines-*.json")
    path.write_text(damage)
    again = Dialect()
    assert again.compile_expression(SOURCE).is_true(ACTIVATION)
    again.remember()
    assert SOURCE in _remembered(cache_home)


def test_without_a_writable_cache_directory_it_only_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cache_home(monkeypatch, unwritable_cache_home(tmp_path))
    dialect = Dialect()
    assert dialect.compile_expression(SOURCE).is_true(ACTIVATION)
    dialect.remember()  # nothing to write to: no error
    assert Dialect().compile_expression(SOURCE).is_true(ACTIVATION)


def test_a_remembered_tree_evaluates_as_the_parse_it_came_from(cache_home: Path) -> None:
    """Every case of the language tests, compiled from its remembered tree in a later process (celpy and
    lark untouched), gives the same value or the same error as when freshly parsed."""
    from tests.cel.test_celvm import DATA, ERRORS, VALUES

    sources = [source for source, _ in VALUES + ERRORS] + [
        r"""'tab\there' + "quote\"d" + '\x41\u00e9\101' + r'raw\n'""",
        "'''multi\nline''' + \"\"\"x\\ty\"\"\"",
        "has(body.status) ? [1, 2].map(i, i * 2) : {'a': 1}['a']",
    ]

    def outcome(dialect: Dialect, source: str) -> object:
        try:
            return ("value", dialect.compile_expression(source).evaluate(DATA))
        except CelEvalError as error:
            return ("error", str(error))

    first = Dialect()
    fresh = {source: outcome(first, source) for source in sources}
    first.remember()
    later = Dialect()
    assert set(_remembered(cache_home)) == set(sources)
    assert {source: outcome(later, source) for source in sources} == fresh
    assert all("program" in later.compile_expression(s).__dict__ for s in sources)


# Compiles and evaluates an expression, then says whether celpy or lark were imported to do it.
_EVALUATE = """
import sys
from infradiag.cel.expression import Dialect
dialect = Dialect()
assert dialect.compile_expression(sys.argv[1]).is_true({"services": [{"failing": True}] * 2, "limit": 1})
dialect.remember()
print(sorted(name for name in ("celpy", "lark") if name in sys.modules))
"""


@pytest.mark.process
def test_a_start_whose_expressions_are_remembered_imports_no_parser(cache_home: Path) -> None:
    def evaluate() -> str:
        done = run_python(_EVALUATE, SOURCE, cache_home=cache_home.parent)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert evaluate() == "['celpy', 'lark']"  # the first start parses
    assert evaluate() == "[]"
