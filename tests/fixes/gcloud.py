"""Check an emitted shell command's `gcloud` invocations against the table of commands infradiag may use.

The table (`gcloud_commands.json`, written by `tools/gcloud_table.py` from an installed Cloud SDK) holds each
command path (track included: `alpha monitoring policies create`), its flags with their kinds (`bool`,
`value`, `dynamic`, or the list of accepted values), its positional count and required flags (from its
`--help` SYNOPSIS), and the flags every command takes (`--project`, `--format`, ...).

`problems(text, table)` returns one line per problem; an empty list means every `gcloud` invocation in the
text (each side of `&&`, `||`, `|`, `;`, and inside `$(...)`) names a command of the table, gives only its
flags, a value to every flag that takes one and none to a boolean flag, a value a flag with choices accepts,
a positional count the synopsis allows, its required flags, `--project` (except where the positional is the
project itself), and no placeholder (`NETWORK`, `<a /26 ...>`); a command of `compute` or `run` that acts on
one resource and takes `--region`, `--zone` or `--global` gives one of them (the table has no "required";
a pasted command must not depend on the reader's gcloud configuration for where the resource is).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from tests.fixes.checker_table import ANGLED_PLACEHOLDER, read_table

TABLE = Path(__file__).with_name("gcloud_commands.json")
# Commands whose positional argument is the project itself: `--project` would only repeat it.
PROJECT_POSITIONAL = frozenset(
    {"projects describe", "projects add-iam-policy-binding", "billing projects describe"}
)
SCOPE_FLAGS = ("--region", "--zone", "--global")
# The command groups whose resources are regional, zonal or global, so that `--region`/`--zone`/`--global`
# names where the resource is (elsewhere, as in `sql instances patch --zone`, such a flag is a setting).
SCOPED_GROUPS = ("compute", "run")
_OPERATORS = frozenset({"&&", "||", "|", ";", "&"})
# Stands for a `$(...)` substitution's output once the substitution itself has been checked.
_SUBSTITUTED = "substituted"
# Flags that a command takes only together with another, which its help text says and its synopsis does not:
# `connectors update --help`: for --max-instances, "--min-instances must be provided".
TOGETHER = {"compute networks vpc-access connectors update": {"--max-instances": "--min-instances"}}
# Flags whose value is an expression of gcloud's filter or format language, not a name or a list of names.
EXPRESSION_FLAGS = frozenset({"--filter", "--format", "--flatten", "--condition-filter", "--if"})
_CAPS = re.compile(r"[A-Z][A-Z0-9_]{2,}")


def load_table(path: Path = TABLE) -> dict[str, Any]:
    """The committed table of gcloud commands and flags."""
    return read_table(path)


def problems(text: str, table: dict[str, Any]) -> list[str]:
    """Every problem of the `gcloud` invocations in one emitted command line (see the module's docstring)."""
    found: list[str] = []
    line = text.replace("\\\n", " ")
    line, inner = _substitutions(line)
    for nested in inner:
        found.extend(problems(nested, table))
    if ANGLED_PLACEHOLDER.search(line):
        found.append(f"placeholder {ANGLED_PLACEHOLDER.search(line)!r} left in: {text}")
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars="&|;")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError as error:
        return [*found, f"does not split as a shell line ({error}): {text}"]
    for words in _invocations(tokens):
        if words and words[0] == "gcloud":
            found.extend(f"{problem}: {text}" for problem in invocation_problems(words[1:], table))
    return found


def _substitutions(line: str) -> tuple[str, list[str]]:
    """The line with each outermost `$(...)` replaced by a word, and the substituted command lines."""
    out: list[str] = []
    inner: list[str] = []
    i = 0
    while i < len(line):
        if line.startswith("$(", i):
            depth, j = 1, i + 2
            while j < len(line) and depth:
                depth += {"(": 1, ")": -1}.get(line[j], 0)
                j += 1
            inner.append(line[i + 2 : j - 1])
            out.append(_SUBSTITUTED)
            i = j
        else:
            out.append(line[i])
            i += 1
    return "".join(out), inner


def _invocations(tokens: list[str]) -> list[list[str]]:
    """The simple commands of a token list split at shell operators."""
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def command_path(words: list[str], table: dict[str, Any]) -> str | None:
    """The longest table command the leading words name, or None."""
    best = None
    for end in range(1, len(words) + 1):
        candidate = " ".join(words[:end])
        if candidate in table["commands"]:
            best = candidate
    return best


def invocation_problems(words: list[str], table: dict[str, Any]) -> list[str]:
    """Problems of one `gcloud WORDS...` invocation (`words` without `gcloud`)."""
    path = command_path(words, table)
    if path is None:
        return [f"unknown gcloud command `gcloud {' '.join(words[:4])}`"]
    spec = table["commands"][path]
    flags: dict[str, Any] = {**table["global_flags"], **spec["flags"]}
    found: list[str] = []
    given: set[str] = set()
    positionals: list[str] = []
    rest = words[len(path.split()) :]
    i = 0
    while i < len(rest):
        word = rest[i]
        i += 1
        if not word.startswith("--"):
            positionals.append(word)
            continue
        name, has_value, value = word.partition("=")
        kind = flags.get(name)
        if kind is None and name.startswith("--no-") and flags.get("--" + name[5:]) == "bool":
            # gcloud accepts `--no-FLAG` for a boolean flag that is unset by default.
            kind = "bool"
        if kind is None:
            found.append(f"`gcloud {path}` has no flag {name}")
            continue
        given.add(name)
        if kind == "bool":
            if has_value:
                found.append(f"{name} is a boolean flag of `gcloud {path}` and takes no value")
            continue
        if not has_value:
            if i >= len(rest) or rest[i].startswith("--"):
                found.append(f"{name} of `gcloud {path}` needs a value")
                continue
            value = rest[i]
            i += 1
        if isinstance(kind, list) and value.lower() not in {choice.lower() for choice in kind}:
            found.append(f"{name} of `gcloud {path}` takes one of {', '.join(kind)}, not {value!r}")
        elif not isinstance(kind, list) and name not in EXPRESSION_FLAGS:
            found.extend(_placeholders(name, value))
    for positional in positionals:
        found.extend(_placeholders("a positional argument", positional))
    count = spec["positionals"]
    low, high = count["min"], count["max"]
    if len(positionals) < low or (high is not None and len(positionals) > high):
        wanted = f"{low}" if low == high else f"{low} to {'any number' if high is None else high}"
        found.append(f"`gcloud {path}` takes {wanted} positional arguments, given {positionals}")
    found.extend(f"`gcloud {path}` requires {flag}" for flag in count["required"] if flag not in given)
    for group in count["one_of"]:
        if not given & set(group):
            found.append(f"`gcloud {path}` requires one of {', '.join(group)}")
    for flag, partner in TOGETHER.get(path, {}).items():
        if flag in given and partner not in given:
            found.append(f"`gcloud {path}` takes {flag} only with {partner}")
    if "--project" not in given and path not in PROJECT_POSITIONAL:
        found.append(f"`gcloud {path}` does not say --project")
    scopes = [flag for flag in SCOPE_FLAGS if flag in spec["flags"]]
    if scopes and _scoped(path) and not given & set(scopes):
        found.append(f"`gcloud {path}` does not say its scope ({' or '.join(scopes)})")
    return found


def _scoped(path: str) -> bool:
    """Whether the command acts on one resource of a scoped group (a `list` may span every scope)."""
    words = [w for w in path.split() if w not in {"alpha", "beta"}]
    return words[0] in SCOPED_GROUPS and words[-1] != "list"


def _placeholders(where: str, value: str) -> list[str]:
    """A value that is, or has a part (between `,` `:` `=` `@` `/`) that is, an ALL-CAPS word is a
    placeholder left for the reader; expressions with spaces (filters, formats) are not split."""
    if " " in value:
        return []
    parts = re.split(r"[,:=@/]", value)
    return [f"placeholder {part} in {where} ({value})" for part in parts if _CAPS.fullmatch(part)]
