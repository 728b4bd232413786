"""The suppressions file: parsed and validated, every problem a UsageError naming file and line.

```yaml
suppressions:
  - cause: vpc_connector.saturated
    resource: projects/acme-staging/locations/us-central1/connectors/staging-conn
    reason: "Resize scheduled in INFRA-1234; E2E runs against the mock database meanwhile"
    expires: 2026-12-31
```

`resource` is a full resource name or an fnmatch pattern (`projects/acme-staging/*`); a suppression applies
through its `expires` date (UTC) and is reported as expired from the next day on.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infradiag.diagnose.playbook import Node, Playbook
from infradiag.errors import UsageError
from infradiag.yamlfile import load_yaml

CAUSE_ID = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cause: str = Field(pattern=CAUSE_ID)
    resource: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    expires: date


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suppressions: list[_Entry] = Field(default_factory=list)


@dataclass(frozen=True)
class Suppression:
    """One accepted finding: a cause on the resources matching `resource`, accepted until `expires`."""

    cause: str
    resource: str
    reason: str
    expires: date
    source: str  # file:line of the entry

    def covers(self, cause: str, resources: list[str]) -> bool:
        """True when this suppression names `cause` and matches one of `resources` (case-sensitively)."""
        return cause == self.cause and any(fnmatch.fnmatchcase(r, self.resource) for r in resources)

    def expired_on(self, today: date) -> bool:
        """True from the day after `expires`."""
        return today > self.expires


def _fix(error_type: str, loc: tuple[str | int, ...]) -> str:
    if error_type == "extra_forbidden":
        return f"remove `{loc[-1]}`: an entry has cause, resource, reason and expires"
    if error_type == "missing":
        return f"add `{loc[-1]}`"
    if error_type.startswith("date"):
        return "write the date as YYYY-MM-DD"
    if loc and loc[-1] == "cause":
        return "use a cause id of the report, e.g. vpc_connector.saturated"
    return "see README, Accepted findings"


def load_suppressions(path: Path, known_causes: Collection[str] | None = None) -> list[Suppression]:
    """Every suppression of `path`; a cause outside `known_causes` (when given) is an error, as a typo
    would otherwise silently suppress nothing."""
    doc = load_yaml(path, "suppressions file")
    if doc.data is None:
        return []
    if not isinstance(doc.data, dict):
        raise UsageError(
            f"{path}:1",
            "a suppressions file is a mapping with a `suppressions` list",
            "start the file with `suppressions:`",
        )
    try:
        parsed = _File.model_validate(doc.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        place = ".".join(str(part) for part in loc) or "(top level)"
        raise UsageError(doc.where(loc), f"{place}: {first['msg']}", _fix(first["type"], loc)) from None
    found: list[Suppression] = []
    for index, entry in enumerate(parsed.suppressions):
        where = doc.where(("suppressions", index))
        if known_causes is not None and entry.cause not in known_causes:
            raise UsageError(
                doc.where(("suppressions", index, "cause")),
                f"unknown cause {entry.cause!r}",
                f"use one of: {', '.join(sorted(known_causes))}",
            )
        found.append(Suppression(entry.cause, entry.resource, entry.reason, entry.expires, where))
    return found


def causes_of(playbooks: list[Playbook]) -> set[str]:
    """Every cause id the playbooks can report: the ones a suppression may name."""
    found: set[str] = set()
    stack: list[Node] = [book.tree for book in playbooks]
    while stack:
        node = stack.pop()
        if node.cause is not None:
            found.add(node.cause)
        stack += node.then
    return found
