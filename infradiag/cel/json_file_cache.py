"""A JSON file of entries by string key in the user's cache directory: what an earlier start worked out and a
later one may reuse instead of redoing it (issue 16). Its users are the CEL outlines (outline_cache) and the
parsed playbook texts (infradiag.diagnose.parsed_cache). It is generic, and imports nothing of infradiag: it
sits in infradiag.cel only because CEL is the bottom layer every other package may import (and which may
import nothing above it, tests/test_architecture.py).

The directory is $XDG_CACHE_HOME/infradiag, else ~/.cache/infradiag. A file is read tolerantly: missing,
unreadable, cut short, not a JSON object, or holding an entry its cache cannot decode, it counts as empty
and is rebuilt, never an error. It is written only when an entry was added, whole to a temporary file then
renamed over it (a concurrent reader sees the old file or the new one); with no writable cache directory
nothing is kept and nothing fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

Entry = TypeVar("Entry")


def cache_directory() -> Path:
    """Where infradiag keeps what it can rebuild: $XDG_CACHE_HOME/infradiag, else ~/.cache/infradiag."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "infradiag"


def write_json_file(path: Path, data: object) -> bool:
    """Write `data` as compact JSON to `path` whole or not at all (a temporary file renamed over it, so a
    concurrent reader sees the old file or the new one); False, leaving nothing behind, where it cannot be
    written (a read-only home, a full disk, the name taken by a directory): the next start rebuilds it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return False
    return True


class JsonFileCache(Generic[Entry]):
    """The entries of one cache file, read on first use; `save()` writes them if any was added since. Entries
    are kept as JSON gives them back unless a subclass overrides `decode` and `encode`."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: nothing is read or kept
        self._entries: dict[str, Entry] | None = None
        self._added = False

    def decode(self, value: Any) -> Entry:
        """An entry as the file holds it, as `get` gives it; ValueError, TypeError or KeyError when it is not
        what `encode` writes (the whole file is then rebuilt)."""
        return cast(Entry, value)

    def encode(self, entry: Entry) -> Any:
        """An entry as the file holds it: plain JSON data that `decode` turns back into `entry`."""
        return entry

    def _loaded(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = {}
            if self.path is not None:
                with contextlib.suppress(OSError, ValueError, TypeError, KeyError):  # rebuilt
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    if isinstance(data, dict):
                        self._entries = {key: self.decode(value) for key, value in data.items()}
        return self._entries

    def get(self, key: str) -> Entry | None:
        """The entry kept under `key`, if any."""
        return self._loaded().get(key)

    def put(self, key: str, entry: Entry) -> None:
        """Keep `entry` under `key` (written by the next `save()` if it is new or changed)."""
        entries = self._loaded()
        if entries.get(key) != entry:
            entries[key] = entry
            self._added = True

    def save(self) -> None:
        """Write the entries if any was added since loading or the last save; does nothing when the cache
        directory cannot be written (the next start then rebuilds what it needs)."""
        if not self._added or self.path is None:
            return
        if write_json_file(self.path, {key: self.encode(entry) for key, entry in self._loaded().items()}):
            self._added = False
