"""The names a playbook expression may read: one list, used by the engine's context, the loader and lint."""

from __future__ import annotations

from infradiag.cel import TYPES
from infradiag.evidence import Evidence

# Joins and views engine.evidence_context adds to the evidence's own fields (playbooks/README.md).
DERIVED = (
    "connector_users",
    "revisions_of",
    "probe",
    "svc",
    "probed_services",
    "failing_services",
    "unknown_sources",
    "thresholds",
    "now",
)
# What each stage sees besides: fallback playbooks the services already explained, review ones also the
# findings so far.
STAGE_NAMES = {"primary": (), "fallback": ("explained",), "review": ("explained", "findings")}


def names_in_scope(stage: str) -> frozenset[str]:
    """Every top-level name an expression of a playbook of `stage` can read (CEL type names included)."""
    return frozenset(Evidence.model_fields) | frozenset(DERIVED) | frozenset(STAGE_NAMES[stage]) | set(TYPES)
