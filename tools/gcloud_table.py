"""Write tests/fixes/gcloud_commands.json: the gcloud commands infradiag may emit, with their flags.

Run where the Google Cloud SDK is installed (`./dev python tools/gcloud_table.py [EXTRA COMMAND PATH ...]`);
the test suite reads only the JSON it writes, so CI needs no gcloud.

What it takes, and from where:
- the command paths: every `gcloud WORD ...` in infradiag/playbooks/ and infradiag/ (and any path given as an
  argument, e.g. `"compute routers nats update"`), matched against gcloud's own command tree, longest path
  first, tracks (`alpha`, `beta`) included; a match must end on a command, not a group;
- each command's flags and their kinds (`bool`, `value`, `dynamic`, or the list of accepted values), and
  the flags every command takes (`--project`, `--format`, ...): from the static completion tree the SDK
  ships (`data/cli/gcloud_completions.py`), which gcloud itself builds from its command definitions;
- each command's positional arguments (how many are required, how many at most) and the flags it requires:
  from the SYNOPSIS of `gcloud COMMAND --help`, which only prints help;
- commands Google's gcloud reference documents in a track that this SDK has only in a pre-release one
  (PROMOTED): the reference's synopsis lists the same flags as the local pre-release command, so its entry
  is taken from that command and says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixes" / "gcloud_commands.json"
SOURCES = [ROOT / "infradiag"]
# `gcloud` and its command words; a CEL template or string concatenation after them chooses a subcommand
# (`gcloud compute health-checks update {hc.type} ...`, `'gcloud ... update ' + check.type`).
_WORDS = re.compile(r"\bgcloud((?:\s+[a-z][a-z0-9-]*)+)(\s+\{|\s*['\"]\s*\+)?")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DEFAULT = re.compile(r';\s*default="[^"]*"')

# GA command -> (the local SDK's pre-release command with the same synopsis, the reference page saying so).
# https://cloud.google.com/sdk/gcloud/reference/monitoring/policies/create (GA) lists exactly the flags of
# `alpha monitoring policies create` in gcloud 528: --notification-channels, --aggregation,
# --condition-display-name, --condition-filter, --duration, --if, --trigger-count | --trigger-percent,
# --combiner, --display-name, --[no-]enabled, --user-labels, --documentation-format, --documentation |
# --documentation-from-file, --policy | --policy-from-file.
PROMOTED: dict[tuple[str, ...], tuple[tuple[str, ...], str]] = {
    ("monitoring", "policies", "create"): (
        ("alpha", "monitoring", "policies", "create"),
        "https://cloud.google.com/sdk/gcloud/reference/monitoring/policies/create",
    ),
}


def sdk_root() -> Path:
    """The installed Cloud SDK's root directory (from `gcloud` on PATH)."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        sys.exit("gcloud_table: gcloud is not on PATH")
    return Path(os.path.realpath(gcloud)).parent.parent


def load_tree(root: Path) -> dict[str, Any]:
    """gcloud's STATIC_COMPLETION_CLI_TREE: {'commands': {name: node}, 'flags': {flag: kind}}."""
    spec = importlib.util.spec_from_file_location(
        "gcloud_completions", root / "data/cli/gcloud_completions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tree: dict[str, Any] = module.STATIC_COMPLETION_CLI_TREE
    return tree


def promote(tree: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """Graft each PROMOTED command the SDK lacks into `tree` as a copy of its pre-release twin; returns the
    grafted paths with the reference page that documents each."""
    grafted: dict[tuple[str, ...], str] = {}
    for path, (source, url) in PROMOTED.items():
        node = tree
        for word in path[:-1]:
            node = node["commands"].setdefault(word, {"commands": {}, "flags": {}})
        if path[-1] not in node["commands"]:
            node["commands"][path[-1]] = _node(tree, source)
            grafted[path] = url
    return grafted


def longest_command(tree: dict[str, Any], words: list[str]) -> list[str] | None:
    """The longest prefix of `words` that names a command (a node without subcommands), or None."""
    node, path = tree, []
    for word in words:
        child = node["commands"].get(word)
        if child is None:
            break
        node, path = child, [*path, word]
    # `gcloud topic ...` pages are help, not commands.
    return path if path and path[0] != "topic" and not node["commands"] else None


def used_paths(tree: dict[str, Any], extra: list[str]) -> set[tuple[str, ...]]:
    """Every command path named after `gcloud` in the sources, plus `extra`; where a template follows a
    group (`update {hc.type}`), every command of that group."""
    found: set[tuple[str, ...]] = set()
    texts = [(words, False) for words in extra]
    for folder in SOURCES:
        for path in sorted(folder.rglob("*")):
            if path.suffix in {".yaml", ".py"}:
                texts.extend((m.group(1), m.group(2) is not None) for m in _WORDS.finditer(path.read_text()))
    for text, templated in texts:
        words = text.split()
        command = longest_command(tree, words)
        if command is not None:
            found.add(tuple(command))
        elif templated and (group := _group(tree, words)) is not None:
            node = _node(tree, group)
            found.update((*group, name) for name, child in node["commands"].items() if not child["commands"])
    return found


def _node(tree: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node = tree
    for word in path:
        node = node["commands"][word]
    return node


def _group(tree: dict[str, Any], words: list[str]) -> tuple[str, ...] | None:
    """`words`, when all of them name a command group."""
    node = tree
    for word in words:
        if word not in node["commands"]:
            return None
        node = node["commands"][word]
    return tuple(words) if node["commands"] else None


def synopsis(command: tuple[str, ...]) -> str:
    """The SYNOPSIS of `gcloud COMMAND --help` on one line, without the command path."""
    env = {**os.environ, "PAGER": "cat", "CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "TERM": "dumb"}
    result = subprocess.run(
        ["gcloud", *command, "--help"], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    text = _ANSI.sub("", result.stdout)
    section = text.split("SYNOPSIS", 1)[1].split("\nDESCRIPTION", 1)[0]
    line = " ".join(section.split())
    prefix = "gcloud " + " ".join(command)
    assert line.startswith(prefix), (command, line)
    return _DEFAULT.sub("", line[len(prefix) :])


_POSITIONAL = re.compile(r"[A-Z][A-Z0-9_]*")
# A short flag's value (`--instance=INSTANCE, -i INSTANCE`) is not a positional.
_SHORT = re.compile(r"-[a-z]")
_TOKEN = re.compile(r"\s*(\[|\]|\(|\)|\||:|\.\.\.|…|--(?:\[no-\])?[a-z0-9][a-z0-9-]*|-[a-z]\b|[^\s\[\]()|]+)")


def _tokens(text: str) -> list[str]:
    """Synopsis tokens; a flag's `=VALUE` (which may hold brackets, as in `=[KEY=VALUE,...]`) is dropped."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        if match is None:
            break
        token, i = match.group(1), match.end()
        if token.startswith("--") and i < len(text) and text[i] == "=":
            depth, i = 0, i + 1
            while i < len(text) and (depth > 0 or text[i] not in " ]|)"):
                depth += {"[": 1, "]": -1}.get(text[i], 0)
                i += 1
        tokens.append(token)
    return tokens


def arguments(text: str) -> dict[str, Any]:
    """From a synopsis: positional count (`min`, `max`, None for any number), the flags it requires outside
    any bracket (`required`), and the groups of which one flag is required (`one_of`)."""
    stack: list[tuple[str, list[str]]] = []
    required, optional, unbounded = 0, 0, False
    flags: list[str] = []
    one_of: list[list[str]] = []
    previous = ""
    for token in _tokens(text):
        if token in {"[", "("}:
            stack.append((token, []))
        elif token in {"]", ")"} and stack:
            kind, members = stack.pop()
            bare = all(k == "(" for k, _ in stack)
            if kind == "(" and bare and "|" in members:
                one_of.append([m for m in members if m != "|"])
        elif token.startswith("--"):
            name = token.replace("[no-]", "")
            if stack:
                stack[-1][1].append(name)
            else:
                flags.append(name)
        elif token == "|" and stack:
            stack[-1][1].append("|")
        elif token in {"...", "…"}:
            unbounded = unbounded or (
                _POSITIONAL.fullmatch(previous) is not None and previous != "GCLOUD_WIDE_FLAG"
            )
        elif _POSITIONAL.fullmatch(token) and token != "GCLOUD_WIDE_FLAG" and not _SHORT.fullmatch(previous):
            if any(k == "[" for k, _ in stack):
                optional += 1
            else:
                required += 1
        previous = token
    # `NAME [NAME ...]` names one positional twice: the bracketed one is its repetition.
    if unbounded and optional and required:
        optional -= 1
    one_of = [group for group in one_of if len(group) > 1]
    return {
        "min": required,
        "max": None if unbounded else required + optional,
        "required": sorted(flags),
        "one_of": one_of,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extra", nargs="*", help='more command paths, e.g. "compute routers nats update"')
    options = parser.parse_args()
    root = sdk_root()
    tree = load_tree(root)
    grafted = promote(tree)
    commands: dict[str, Any] = {}
    for command in sorted(used_paths(tree, options.extra)):
        node = _node(tree, command)
        source = PROMOTED[command][0] if command in grafted else command
        commands[" ".join(command)] = {
            "flags": dict(sorted(node["flags"].items())),
            "positionals": arguments(synopsis(source)),
            **({"reference": grafted[command]} if command in grafted else {}),
        }
    table = {
        "gcloud_version": (root / "VERSION").read_text().strip(),
        "source": "the Cloud SDK's data/cli/gcloud_completions.py (commands, flags, kinds) and the SYNOPSIS "
        "of `gcloud COMMAND --help` (positionals, required flags); written by tools/gcloud_table.py",
        "global_flags": dict(sorted(tree["flags"].items())),
        "commands": commands,
    }
    OUT.write_text(json.dumps(table, indent=1, sort_keys=False) + "\n")
    print(f"gcloud_table: {len(commands)} commands of gcloud {table['gcloud_version']} -> {OUT}")


if __name__ == "__main__":
    main()
