"""The repository documents its own formats: no tracked file points outside it, and every relative link of a
tracked Markdown file leads to a tracked file (and to a heading of it, when the link names one)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import PurePosixPath

import pytest

from tests.conftest import ROOT

# Vendored trees are not ours to correct.
VENDORED = ("node_modules/",)
# Pointers outside the repository: the old spec beside the checkout, and absolute paths of this machine. The
# patterns are built from parts so that this file does not match them itself.
OUTSIDE = re.compile(
    "|".join(
        (
            re.escape("../" + "shared"),
            re.escape("shared" + "/spec"),
            r"(?<![\w.~:/-])" + re.escape("/" + "work" + "/"),
        )
    )
)
# One exception, for data rather than documents: the default place of the gcpdiag corpus that tests/corpus/
# replays when it is there (captured API responses that are not committed). No format may be described there.
DATA_OUTSIDE = re.compile(r"(?:\.\./)?" + re.escape("shared" + "/corpus/"))
# Names of the old spec files that never were in the repository: a bare mention is a dangling hint.
OLD_SPEC = ("twin-scenario", "triage-report")
OLD_SPEC_NAMES = re.compile(r"\b(?:" + "|".join(OLD_SPEC) + r")\.md\b")
DOCS = (
    "docs/README.md",
    "docs/scenario-format.md",
    "docs/report-format.md",
    "docs/causes.md",
    "docs/gcp-reference.md",
)

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", flags=re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", flags=re.M)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", flags=re.I)


@cache
def tracked() -> tuple[str, ...]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return tuple(p for p in out.split("\0") if p and not any(v in p for v in VENDORED))


def _text(path: str) -> str | None:
    try:
        data = (ROOT / path).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None  # tracked but deleted in the working tree
    if b"\0" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


def pointers_outside(text: str) -> list[str]:
    """Each line of `text` that points outside the repository, or names an old spec file."""
    return [
        line.strip()
        for line in text.splitlines()
        if OUTSIDE.search(DATA_OUTSIDE.sub("", line)) or OLD_SPEC_NAMES.search(line)
    ]


def _github_anchor(heading: str) -> str:
    # GitHub's slugs: lower case, punctuation other than `-` and `_` dropped, spaces to hyphens.
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The heading anchors of a Markdown text, as GitHub makes them (repeated headings get -1, -2...)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", _FENCE.sub("", markdown), flags=re.M):
        slug = _github_anchor(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(markdown: str) -> list[str]:
    """Targets of the inline and reference links of a Markdown text outside code, other than URLs."""
    prose = _INLINE_CODE.sub("", _FENCE.sub("", markdown))
    targets = [m.group(1) for m in _LINK.finditer(prose)] + [m.group(1) for m in _REFERENCE.finditer(prose)]
    return [t for t in targets if not _EXTERNAL.match(t)]


def broken_links(path: str, files: set[str], read: Callable[[str], str | None] = _text) -> list[str]:
    """Each relative link of the tracked Markdown file `path` that leads to no tracked file or heading."""
    text = read(path) or ""
    problems = []
    for target in relative_links(text):
        file_part, _, fragment = target.partition("#")
        if file_part:
            parts: list[str] = []
            for part in (PurePosixPath(path).parent / file_part).parts:
                if part == "..":
                    if not parts:
                        parts = ["..", "(outside the repository)"]
                        break
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            resolved = "/".join(parts)
        else:
            resolved = path
        is_folder = any(f.startswith(resolved.rstrip("/") + "/") for f in files)
        if resolved not in files and not is_folder:
            problems.append(f"{path}: ({target}) leads to no tracked file")
        elif fragment and resolved.endswith(".md") and fragment not in anchors(read(resolved) or ""):
            problems.append(f"{path}: ({target}) names no heading of {resolved}")
    return problems


def test_the_documents_are_in_the_repository() -> None:
    assert [p for p in DOCS if p not in tracked()] == []


def test_no_tracked_file_points_outside_the_repository() -> None:
    problems = []
    for path in tracked():
        text = _text(path)
        if text is not None:
            problems += [f"{path}: {line}" for line in pointers_outside(text)]
    assert problems == []


def test_every_relative_link_of_a_markdown_file_resolves() -> None:
    files = set(tracked())
    problems = [p for path in sorted(files) if path.endswith(".md") for p in broken_links(path, files)]
    assert problems == []


# The checks themselves, on made-up text.


@pytest.mark.parametrize(
    "line",
    [
        "see " + "../" + "shared" + "/spec/causes.md",
        "(fix: use an id of " + "shared" + "/spec/causes.md)",
        "open " + "/" + "work/" + "README.md",
        f'return "see {OLD_SPEC[0]}.md"',
        f"Exit codes ({OLD_SPEC[1]}.md)",
    ],
)
def test_a_pointer_outside_is_found(line: str) -> None:
    assert pointers_outside(f"first line\n{line}\n") == [line]


@pytest.mark.parametrize(
    "line",
    [
        "see docs/scenario-format.md and docs/causes.md",
        "https://example.com/" + "work/" + "page",
        "infradiag/schemas/triage-report.v1.json",
        "$INFRADIAG_CORPUS, else ../" + "shared/corpus/gcpdiag",
    ],
)
def test_a_pointer_inside_is_not_found(line: str) -> None:
    assert pointers_outside(line) == []


def test_broken_and_sound_links_are_told_apart() -> None:
    files = {"README.md", "docs/causes.md", "docs/README.md"}
    text = (
        "[ok](causes.md) [ok](causes.md#priorities) [ok](../README.md) [ok](https://example.com/x.md)\n"
        "[bad](missing.md) [bad](causes.md#no-such-heading) [bad](../../outside.md)\n"
        "`[code](ignored.md)`\n```\n[fenced](ignored.md)\n```\n[ref]: gone.md\n"
    )
    heading = "# Cause catalog\n## Priorities\n"
    texts = {"docs/README.md": text, "docs/causes.md": heading, "README.md": "# infradiag\n"}
    assert broken_links("docs/README.md", files, texts.get) == [
        "docs/README.md: (missing.md) leads to no tracked file",
        "docs/README.md: (causes.md#no-such-heading) names no heading of docs/causes.md",
        "docs/README.md: (../../outside.md) leads to no tracked file",
        "docs/README.md: (gone.md) leads to no tracked file",
    ]


def test_github_anchors() -> None:
    text = "# Twin scenario format, v1\n## Endpoints (twin-only)\n## `twin check` and serving\n"
    text += "## Changes\n## Changes\n"
    assert anchors(text) == {
        "twin-scenario-format-v1",
        "endpoints-twin-only",
        "twin-check-and-serving",
        "changes",
        "changes-1",
    }
