"""The names a playbook expression may read and the type of each: one table, used by the engine's context
(engine.evidence_context builds the values), the loader (names) and lint (types)."""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from infradiag.cel import TYPES
from infradiag.config.model import AlertingConfig, Thresholds
from infradiag.evidence import Evidence, ProbeResult, RevisionEvidence, ServiceEvidence


@dataclass(frozen=True)
class ValueType:
    """What lint knows of a value: a model, a list or map of something, or nothing checkable."""

    kind: str  # model | list | map | other
    model: type[BaseModel] | None = None
    item: ValueType | None = None


OTHER = ValueType("other")
_STRINGS = ValueType("list", item=OTHER)


def value_type(annotation: Any) -> ValueType:
    """The ValueType of a pydantic field annotation (`T | None` counts as `T`)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return value_type(options[0]) if len(options) == 1 else OTHER
    if origin is list:
        return ValueType("list", item=value_type(get_args(annotation)[0]))
    if origin is dict:
        return ValueType("map", item=value_type(get_args(annotation)[1]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ValueType("model", model=annotation)
    return OTHER


class FindingSummary(BaseModel):
    """What review playbooks see of each earlier finding."""

    cause: str
    priority: str
    resource: str
    affected_services: list[str]


# Joins and views engine.evidence_context adds to the evidence's own fields (infradiag/playbooks/README.md).
DERIVED: dict[str, ValueType] = {
    "connector_users": ValueType("map", item=_STRINGS),
    "revisions_of": ValueType("map", item=ValueType("list", item=value_type(RevisionEvidence))),
    "probe": ValueType("map", item=ValueType("model", model=ProbeResult)),
    "svc": ValueType("map", item=ValueType("model", model=ServiceEvidence)),
    "probed_services": _STRINGS,
    "failing_services": _STRINGS,
    "unknown_sources": _STRINGS,
    "thresholds": ValueType("model", model=Thresholds),
    "alerting": ValueType("model", model=AlertingConfig),
    "now": OTHER,
}
# What each stage sees besides: fallback playbooks the services already explained, review ones also the
# findings so far.
_EXPLAINED = {"explained": _STRINGS}
STAGE_NAMES: dict[str, dict[str, ValueType]] = {
    "primary": {},
    "fallback": _EXPLAINED,
    "review": {**_EXPLAINED, "findings": ValueType("list", item=ValueType("model", model=FindingSummary))},
}


def root_types(stage: str = "review") -> dict[str, ValueType]:
    """The type of every variable a playbook of `stage` reads: the evidence's fields, DERIVED, the stage's."""
    roots = {name: value_type(field.annotation) for name, field in Evidence.model_fields.items()}
    return {**roots, **DERIVED, **STAGE_NAMES[stage]}


@functools.cache  # the loader asks once per playbook; the models and tables above are fixed
def names_in_scope(stage: str) -> frozenset[str]:
    """Every top-level name an expression of a playbook of `stage` can read (CEL type names included)."""
    return frozenset(root_types(stage)) | frozenset(TYPES)
