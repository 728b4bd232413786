"""The user's cache directory in tests ($XDG_CACHE_HOME, where infradiag keeps its parser, outline and
playbook caches): one of the test's own, in this interpreter or in a fresh one (a cold start, as the next
command a user types makes it), or one that cannot be made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Put before a script that run_python runs: from there on OPENED counts the times each file is opened and
# REPLACED the times a file is renamed over each one, by path as the code named it. Python's audit events
# "open" (open() and os.open()) and "os.rename" (os.replace() too) see the calls themselves, whoever makes
# them.
WATCH_FILES = """
import collections, os, sys
OPENED, REPLACED = collections.Counter(), collections.Counter()
def _watch(event, args):
    if event == "open" and not isinstance(args[0], int):
        OPENED[os.fspath(args[0])] += 1
    elif event == "os.rename":
        REPLACED[os.fspath(args[1])] += 1
sys.addaudithook(_watch)
"""


def use_cache_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """$XDG_CACHE_HOME is `home` for the rest of the test; the directory infradiag's caches go in under it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home / "infradiag"


def unwritable_cache_home(tmp_path: Path) -> Path:
    """A $XDG_CACHE_HOME under which no cache directory can be made (a file stands there), as with a
    read-only home."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    return blocked


def run_python(script: str, *args: str, cache_home: Path) -> subprocess.CompletedProcess[str]:
    """`python -c SCRIPT ARGS...` in a fresh interpreter whose $XDG_CACHE_HOME is `cache_home`: nothing is
    imported or cached in memory yet (celpy, for one, keeps its parser on its class once per process).
    Output is captured as text; a failing script is returned, not raised."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home)},
        check=False,
        timeout=120,
    )
