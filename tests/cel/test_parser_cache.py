"""celpy's parser comes from lark's cache in the user's cache directory: written on the first start, read on
the next, rebuilt over a corrupt file, and never needed (a start without a writable directory still
parses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.user_cache import run_python, unwritable_cache_home

# Run in a fresh interpreter (run_python): celpy keeps its parser on its class, once per process.
PARSE = """
from celpy.celparser import CELParser
from infradiag.cel import compile_expression
assert compile_expression("body.status == 'ok' && size(body.checks) > 1").evaluate(
    {"body": {"status": "ok", "checks": [1, 2]}}
) is True
print(CELParser.CEL_PARSER.options.cache or "")
"""


def parse_in_fresh_interpreter(cache_home: Path) -> str:
    done = run_python(PARSE, cache_home=cache_home)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.strip()


@pytest.mark.process
def test_the_parser_is_cached_once_and_read_back(tmp_path: Path) -> None:
    first = parse_in_fresh_interpreter(tmp_path)
    [cached] = (tmp_path / "infradiag").iterdir()
    assert first == str(cached) and cached.stat().st_size > 10_000
    written = cached.stat().st_mtime_ns
    assert parse_in_fresh_interpreter(tmp_path) == first
    assert cached.stat().st_mtime_ns == written  # read, not rebuilt


@pytest.mark.process
def test_a_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    parse_in_fresh_interpreter(tmp_path)
    [cached] = (tmp_path / "infradiag").iterdir()
    cached.write_bytes(cached.read_bytes()[:500])  # as a write cut short leaves it
    parse_in_fresh_interpreter(tmp_path)
    assert cached.stat().st_size > 10_000


@pytest.mark.process
def test_without_a_cache_directory_the_parser_is_built_as_before(tmp_path: Path) -> None:
    assert parse_in_fresh_interpreter(unwritable_cache_home(tmp_path)) == ""
