"""What loading a playbook needs of each CEL expression, kept on disk so that a cold start need not parse it.

Loading checks every expression (the names it reads, whether it is always a bool) but a triage evaluates
few of them (104 of the bundled playbooks' 610 for the bundled incident, 41 for a healthy project), and
lark's parse is most of the load (issue 16). An expression whose outline is known is therefore not parsed
at load, and its outline holds its parse tree too (infradiag.cel.tree's text form), compiled on its first
evaluation: a start whose expressions are all known neither parses nor imports celpy and lark. Only
expressions that compiled in full are remembered, per dialect (its function names) and per version of the
code that derives outlines (the SHA-256 of infradiag/cel's sources and the cel-python and lark versions),
so an outline is never older than the code that would derive it.

The file lives beside lark's parser cache ($XDG_CACHE_HOME/infradiag), one JSON object of
`source: [names, free, result_type, tree]`, kept by infradiag.cel.json_file_cache: written whole then
renamed over, read tolerantly (anything unreadable counts as empty and is rebuilt); with no writable cache
directory nothing is kept.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infradiag.cel.json_file_cache import JsonFileCache, cache_directory


@dataclass(frozen=True)
class Outline:
    """An expression's identifiers, the ones it reads from its activation, its static result type, and its
    parse tree (infradiag.cel.tree.encode)."""

    names: frozenset[str]
    free: frozenset[str]
    result_type: str | None
    tree: str


@functools.cache  # both dialects key their file by it: the sources are read once
def _code_version() -> str:
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    for package in ("cel-python", "lark"):
        digest.update(f"{package}={importlib.metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


class OutlineCache(JsonFileCache[Outline]):
    """The remembered outlines of one dialect, by source; `save()` writes what was added since loading."""

    def __init__(self, functions: list[str]) -> None:
        key = hashlib.sha256(("\0".join(sorted(functions)) + _code_version()).encode()).hexdigest()[:16]
        super().__init__(cache_directory() / f"cel-outlines-{key}.json")

    def decode(self, value: Any) -> Outline:
        """An outline from its `[names, free, result_type, tree]` entry."""
        names, free, result_type, tree = value
        return Outline(frozenset(names), frozenset(free), result_type, tree)

    def encode(self, entry: Outline) -> Any:
        """The `[names, free, result_type, tree]` entry of an outline."""
        return [sorted(entry.names), sorted(entry.free), entry.result_type, entry.tree]
