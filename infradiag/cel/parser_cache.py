"""celpy's CEL parser, with lark's grammar analysis cached on disk: a cold start loads it in about 10 ms
instead of building the LALR tables again (about 100 ms of CPU, issue 16).

The parser is the one celpy 0.5's CELParser builds (same grammar, same Lark options), plus lark's own
`cache` option (https://lark-parser.readthedocs.io/en/latest/classes.html, "cache"): lark keys the file's
content by the SHA-256 of the grammar and options, rebuilds and rewrites it when that does not match or the
file cannot be read (a truncated or concurrent write), and carries on without it when it cannot write. The
file lives in the user's cache directory (infradiag.cel.json_file_cache.cache_directory), named by the
lark and Python versions. With another celpy version, or no writable cache directory, celpy builds its
parser itself, as before.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import sys
from pathlib import Path
from typing import Any

from infradiag.cel.json_file_cache import cache_directory

# The celpy version whose CELParser.__init__ the Lark options below copy.
_CELPY = "0.5.0"


def install_cached_parser() -> None:
    """Give celpy's CELParser its lark parser from the cache (built and saved there the first time); does
    nothing if celpy already has one, is another version, or no cache directory can be made."""
    import lark
    from celpy.celparser import CELParser

    if CELParser.CEL_PARSER is not None or importlib.metadata.version("cel-python") != _CELPY:
        return
    directory = cache_directory()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # e.g. a read-only home: celpy builds its parser itself
    major, minor = sys.version_info[:2]
    grammar = (Path(sys.modules[CELParser.__module__].__file__ or "").parent / "cel.lark").read_text()
    CELParser.CEL_PARSER = lark.Lark(
        grammar,
        parser="lalr",
        start="expr",
        debug=True,
        g_regex_flags=re.M,
        lexer_callbacks={"IDENT": CELParser.ambiguous_literals},
        propagate_positions=True,
        maybe_placeholders=False,
        priority="invert",
        tree_class=lark.Tree,
        cache=str(directory / f"cel-parser-lark{lark.__version__}-py{major}{minor}.cache"),
    )


@functools.cache  # celpy, lark and the parser tables load on the first parse only
def cel_environment() -> Any:
    """The one celpy Environment of the process, whose parser comes from the cache (install_cached_parser):
    what every CEL parse of infradiag goes through (`.compile(source)` gives lark's parse tree)."""
    import celpy

    install_cached_parser()  # before celpy's first CELParser, which would build its own tables
    return celpy.Environment()
