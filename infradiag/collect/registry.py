"""Every API read infradiag makes, gathered from the `READS` of the collect modules that declare them, and
what is derived from them: the collector's reads, the unknowns' roles and services, the Terraform role list
and the README's role table.

`./dev python -m infradiag.collect.registry --write` rewrites the generated parts of README.md and
terraform/modules/infradiag-sweep/main.tf (between their `registry` markers); `--check` exits 1 when they are
stale, as tests/collect/test_registry.py does.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from infradiag.collect import (
    alerting,
    compute,
    firewall_policies,
    loadbalancing,
    run,
    signals,
    sql,
    vpcaccess,
)
from infradiag.collect.api import Api, Fetch, Read

READS: tuple[Read, ...] = (
    *run.READS,
    *vpcaccess.READS,
    *compute.READS,
    *firewall_policies.READS,
    *loadbalancing.READS,
    *sql.READS,
    *alerting.READS,
    *signals.READS,
)
_BY_NAME = {read.name: read for read in READS}
# The reads the collector runs on their own (they need no other read's answer), with their fetch.
INDEPENDENT: tuple[tuple[Read, Fetch], ...] = tuple(
    (read, read.fetch) for read in READS if read.fetch is not None
)
APIS: tuple[Api, ...] = tuple(dict.fromkeys(read.api for read in READS))
# The read-only role that covers each API's reads, by the API's name.
VIEWER_ROLES = {api.name: api.role for api in APIS}

COMMAND = "./dev python -m infradiag.collect.registry --write"


def read_named(name: str) -> Read:
    """The read `name` (as the collector names it in Evidence.checked); a Monitoring signal's name gives its
    family's read. KeyError for a name no read declares."""
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    return _BY_NAME[signals.family(name)]


def roles() -> dict[str, Api]:
    """Each viewer role once, with the first API (in declaration order) it covers."""
    found: dict[str, Api] = {}
    for api in APIS:
        found.setdefault(api.role, api)
    return found


@dataclass(frozen=True)
class Generated:
    """One generated block: the file, the markers around it, and its text."""

    path: str  # relative to the repository root
    begin: str
    end: str
    text: str


def readme_table() -> str:
    """The README's role table: each role and why infradiag needs it."""
    rows = ["| role | API | why |", "|---|---|---|"]
    rows += [f"| `{role}` | {api.title} | {api.why} |" for role, api in roles().items()]
    return "\n".join(rows)


def terraform_roles() -> str:
    """The entries of the Terraform module's `viewer_roles` map, aligned as `terraform fmt` aligns them."""
    quoted = {f'"{role}"': f"{api.title}: {api.why}" for role, api in roles().items()}
    width = max(len(key) for key in quoted)
    return "\n".join(f'    {key.ljust(width)} = "{why}"' for key, why in quoted.items())


def generated() -> list[Generated]:
    """Every block derived from the registry, where it goes."""
    note = f"generated from infradiag/collect/registry.py by `{COMMAND}`"
    return [
        Generated("README.md", f"<!-- registry: roles, {note} -->", "<!-- registry: end -->", readme_table()),
        Generated(
            "terraform/modules/infradiag-sweep/main.tf",
            f"    # registry: roles, {note}",
            "    # registry: end",
            terraform_roles(),
        ),
    ]


def rewritten(text: str, block: Generated) -> str:
    """`text` with the lines between the block's markers replaced by its text; ValueError without markers."""
    pattern = re.compile(rf"(^{re.escape(block.begin)}\n).*?(^{re.escape(block.end)}$)", re.S | re.M)
    if not pattern.search(text):
        raise ValueError(f"{block.path}: no `{block.begin.strip()}` ... `{block.end.strip()}` markers")
    return pattern.sub(lambda m: f"{m.group(1)}{block.text}\n{m.group(2)}", text, count=1)


def stale(root: Path) -> list[str]:
    """The files under `root` whose generated blocks differ from what the registry gives."""
    found = []
    for block in generated():
        text = (root / block.path).read_text(encoding="utf-8")
        if rewritten(text, block) != text:
            found.append(block.path)
    return found


def write(root: Path) -> list[str]:
    """Rewrite the stale generated blocks under `root`; the files it changed."""
    changed = stale(root)
    for block in generated():
        if block.path in changed:
            path = root / block.path
            path.write_text(rewritten(path.read_text(encoding="utf-8"), block), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """`--write` regenerates the blocks, `--check` exits 1 naming the stale files; 2 when a file lost its
    markers."""
    parser = argparse.ArgumentParser(prog="python -m infradiag.collect.registry", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the generated blocks")
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated block is stale")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    try:
        if args.write:
            for path in write(args.root):
                print(f"rewrote {path}")
            return 0
        files = stale(args.root)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    for path in files:
        print(f"{path} is stale: run `{COMMAND}`", file=sys.stderr)
    return 1 if files and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
