"""Check an emitted Terraform text against the google provider's documented arguments.

The table (`terraform_resources.json`) holds, for each google provider resource infradiag may emit, the
arguments its documentation page lists (the page is cited per resource), and for each block the arguments
listed for that block, three levels deep.

`problems(text, table)` returns one line per problem; an empty list means the text parses as HCL
(python-hcl2), holds only `resource` blocks, at least one, each of a resource type of the table, whose every
argument and block (at every level the table documents) is one the provider documents for it, and no value
is a placeholder left for the reader (`<a /26 or larger>`, a member `serviceAccount:PROBER_SA`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2

from tests.fixes.checker_table import ANGLED_PLACEHOLDER, read_table

TABLE = Path(__file__).with_name("terraform_resources.json")
_PRINCIPAL = re.compile(r"^(?:serviceAccount|user|group|domain):([A-Z][A-Z0-9_]+)$")


def load_table(path: Path = TABLE) -> dict[str, Any]:
    """The committed table of google provider resources and their documented arguments."""
    return read_table(path)


def problems(text: str, table: dict[str, Any]) -> list[str]:
    """Every problem of one emitted Terraform text (see the module's docstring)."""
    try:
        parsed = hcl2.loads(text)
    except Exception as error:  # lark's and hcl2's parse errors share no base class but Exception
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return [f"does not parse as HCL ({first}): {text}"]
    found = [f"top-level {key!r} is not a resource block: {text}" for key in parsed if key != "resource"]
    resources = [
        (_unquote(kind), _unquote(name), body)
        for entry in parsed.get("resource", [])
        for kind, named in entry.items()
        for name, body in named.items()
    ]
    if not resources:
        found.append(f"no resource block: {text}")
    meta = set(table["meta_arguments"])
    for kind, name, body in resources:
        spec = table["resources"].get(kind)
        if spec is None:
            found.append(f"resource type {kind} is not in the table of google provider resources: {text}")
            continue
        found.extend(
            f"{problem}: {text}"
            for problem in _body_problems(f"{kind}.{name}", body, spec["arguments"], meta)
        )
    return found


def _body_problems(where: str, body: dict[str, Any], arguments: dict[str, Any], meta: set[str]) -> list[str]:
    found: list[str] = []
    for key, value in body.items():
        # python-hcl2's own keys (`__is_block__`, `__comments__`) are not arguments.
        if key.startswith("__") or key in meta:
            continue
        if key not in arguments:
            found.append(f"{where} has no argument or block {key!r} in the provider's documentation")
            continue
        nested = arguments[key]
        blocks = value if isinstance(value, list) else []
        for block in blocks:
            if isinstance(block, dict) and block.get("__is_block__") and isinstance(nested, dict):
                found.extend(_body_problems(f"{where}.{key}", block, nested, set()))
        found.extend(_placeholders(f"{where}.{key}", key, value))
    return found


def _placeholders(where: str, key: str, value: Any) -> list[str]:
    """Placeholders among the strings of an attribute's value (blocks are checked as bodies)."""
    if isinstance(value, dict):
        if value.get("__is_block__"):
            return []
        return [
            p
            for name, item in value.items()
            if not name.startswith("__")
            for p in _placeholders(where, key, item)
        ]
    if isinstance(value, list):
        return [p for item in value for p in _placeholders(where, key, item)]
    if not isinstance(value, str):
        return []
    text = _unquote(value)
    found = [f"placeholder {m.group(0)!r} in {where}" for m in ANGLED_PLACEHOLDER.finditer(text)]
    if key in {"member", "members"} and (m := _PRINCIPAL.match(text)):
        found.append(f"placeholder {m.group(1)} in {where}")
    return found


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
