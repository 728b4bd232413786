"""A fix as one typed change: the API request it makes, field by field, with its risks.

A Change is a plain API request (Google's REST field names, camelCase, as a scenario writes the resource), so
it can be rendered (gcloud, Terraform: render.py) and, later, applied to a copy of a scenario. It imports
nothing of collect or the twin: it sits below diagnose.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Risk(StrEnum):
    """What applying a change does besides the change itself, shown with the fix in every format."""

    RESTARTS = "restarts"  # the resource restarts: connections drop while it does
    DROPS_TRAFFIC = "drops_traffic"  # requests fail while it applies
    IRREVERSIBLE = "irreversible"  # no way back (data lost, a setting that cannot be undone)
    WIDENS_EXPOSURE = "widens_exposure"  # more principals or addresses reach the resource
    COSTS_MORE = "costs_more"  # a larger or longer-running bill
    ONLY_UP_IN_PLACE = "only_up_in_place"  # can be raised in place but never lowered (recreate to go back)


# One line each, for the views: what the risk means for whoever applies the change.
RISK_TEXT: dict[Risk, str] = {
    Risk.RESTARTS: "restarts the resource: open connections drop while it restarts",
    Risk.DROPS_TRAFFIC: "drops traffic while it applies",
    Risk.IRREVERSIBLE: "cannot be undone",
    Risk.WIDENS_EXPOSURE: "widens who or what can reach the resource",
    Risk.COSTS_MORE: "costs more",
    Risk.ONLY_UP_IN_PLACE: "can only go up in place: lowering it again means recreating the resource",
}


class FieldChange(BaseModel):
    """One field of the request: its value now and the value proposed, and why that value."""

    model_config = ConfigDict(frozen=True)

    field: str  # dotted path in the request body, Google's names: "maxInstances", "settings.databaseFlags"
    current: Any = None  # None: not set (the API's default applies)
    proposed: Any
    why: str


class Change(BaseModel):
    """One API request that fixes a finding: `changes` are the fields whose value changes; `carried` are
    fields sent unchanged because the API resets them or needs them alongside; `context` holds current
    settings the renderings need to name the resource (Terraform's identifying attributes), never sent."""

    model_config = ConfigDict(frozen=True)

    api: str  # "vpcaccess", "sqladmin"
    method: str  # "projects.locations.connectors.patch", "instances.patch"
    resource: str  # full resource name: projects/P/locations/R/connectors/C
    changes: list[FieldChange] = Field(default_factory=list)
    carried: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    risks: list[Risk] = Field(default_factory=list)
    way_back: str | None = None

    @property
    def empty(self) -> bool:
        """True when applying it would change nothing."""
        return not self.changes

    def sent(self) -> dict[str, Any]:
        """Every field the request sends, by dotted path: the changed ones at their proposed values and the
        carried ones."""
        return {**self.carried, **{c.field: c.proposed for c in self.changes}}

    def body(self) -> dict[str, Any]:
        """The request body: `sent()` nested by the dotted paths."""
        body: dict[str, Any] = {}
        for path, value in self.sent().items():
            *parents, leaf = path.split(".")
            node = body
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return body

    def update_mask(self) -> str:
        """The updateMask of the request: every field sent, comma-separated, sorted."""
        return ",".join(sorted({*self.carried, *(c.field for c in self.changes)}))

    def value(self, path: str) -> Any:
        """The value the resource has at `path` once the change applies: proposed, carried or context."""
        for change in self.changes:
            if change.field == path:
                return change.proposed
        if path in self.carried:
            return self.carried[path]
        return self.context.get(path)
