"""What loading a playbook needs of each CEL expression, kept on disk so that a cold start need not parse it.

Loading checks every expression (the names it reads, whether it is always a bool) but a triage evaluates
few of them (104 of the bundled playbooks' 610 for the bundled incident, 41 for a healthy project), and
lark's parse is most of the load (issue 16). An expression whose outline is known is therefore not parsed
at load, and its outline holds its parse tree too (infradiag.cel.tree's text form), compiled on its first
evaluation: a start whose expressions are all known neither parses nor imports celpy and lark. Only
expressions that compiled in full are remembered, per dialect (its function names) and per version of the
code that derives outlines (the SHA-256 of infradiag/cel's sources and the cel-python and lark versions),
so an outline is never older than the code that would derive it.

The file lives beside lark's parser cache ($XDG_CACHE_HOME/infradiag). It is written whole to a temporary
file then renamed over (a concurrent reader sees the old file or the new one), and read tolerantly:
anything unreadable counts as empty and is rebuilt; with no writable cache directory nothing is kept.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path

from infradiag.cel.parser_cache import cache_directory, write_cache_file


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


class OutlineCache:
    """The remembered outlines of one dialect; `save()` writes what was added since loading."""

    def __init__(self, functions: list[str]) -> None:
        key = hashlib.sha256(("\0".join(sorted(functions)) + _code_version()).encode()).hexdigest()[:16]
        self.path = cache_directory() / f"cel-outlines-{key}.json"
        self._known: dict[str, Outline] | None = None
        self._added = False

    def _entries(self) -> dict[str, Outline]:
        if self._known is None:
            self._known = {}
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):  # unreadable: rebuilt
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not the cache's shape")
                self._known = {
                    source: Outline(frozenset(names), frozenset(free), result_type, tree)
                    for source, (names, free, result_type, tree) in data.items()
                }
        return self._known

    def get(self, source: str) -> Outline | None:
        """The remembered outline of `source`, if any."""
        return self._entries().get(source)

    def put(self, source: str, outline: Outline) -> None:
        """Remember the outline of `source`, which compiled in full."""
        entries = self._entries()
        if entries.get(source) != outline:
            entries[source] = outline
            self._added = True

    def save(self) -> None:
        """Write the outlines if any were added; does nothing when the cache directory cannot be written."""
        if not self._added:
            return
        data = {
            s: [sorted(o.names), sorted(o.free), o.result_type, o.tree] for s, o in self._entries().items()
        }
        if write_cache_file(self.path, data):
            self._added = False
