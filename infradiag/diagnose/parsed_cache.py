"""Playbook files as an earlier start parsed them, kept by the SHA-256 of their text: a start whose playbooks
did not change neither imports PyYAML nor parses them (issue 16: about 25 ms of every cold start).

What is kept is what `infradiag.yamlfile.load_yaml` gave for that exact text, and only when it survives a
JSON round trip unchanged (plain mappings with string keys, lists, strings, numbers, booleans, null). The
file is keyed by the code that parses (the SHA-256 of infradiag/yamlfile.py and the PyYAML version), lives
beside the CEL outlines ($XDG_CACHE_HOME/infradiag) and is kept by infradiag.cel.json_file_cache: written
whole then renamed over, read tolerantly (anything unreadable counts as empty); with no writable cache
directory nothing is kept.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

from infradiag.cel.json_file_cache import JsonFileCache, cache_directory

_YAMLFILE = Path(__file__).resolve().parent.parent / "yamlfile.py"


@functools.cache
def _parser_version() -> str | None:
    """The key of the parsing code; None when it cannot be known (no source beside the package, PyYAML's
    metadata missing), and then nothing is kept or reused."""
    try:
        digest = hashlib.sha256(_YAMLFILE.read_bytes())
        digest.update(f"PyYAML={importlib.metadata.version('PyYAML')}".encode())
    except (OSError, importlib.metadata.PackageNotFoundError):
        return None
    return digest.hexdigest()[:16]


def text_key(text: str) -> str:
    """The key of a file's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ParsedCache(JsonFileCache[Any]):
    """Parsed playbook texts by key (`get` gives None also for an empty document); `save()` writes what was
    added since loading."""

    def __init__(self) -> None:
        version = _parser_version()
        super().__init__(None if version is None else cache_directory() / f"playbook-yaml-{version}.json")

    def put(self, key: str, entry: Any) -> None:
        """Keep what a text parsed to, if JSON gives it back exactly as it is."""
        try:
            same = json.loads(json.dumps(entry)) == entry
        except (TypeError, ValueError):  # e.g. a key JSON cannot hold
            return
        if same:
            super().put(key, entry)
