"""The names in scope of a playbook (diagnose/context.py) are what the engine provides."""

from __future__ import annotations

from datetime import UTC, datetime

from infradiag.diagnose.context import DERIVED, names_in_scope
from infradiag.diagnose.engine import evidence_context
from infradiag.evidence import Evidence


def test_the_engine_provides_the_names_in_scope_and_nothing_else() -> None:
    evidence = Evidence(project="p", region="us-central1", now=datetime(2026, 1, 1, tzinfo=UTC))
    context = evidence_context(evidence, {})
    assert set(DERIVED) <= set(context) <= names_in_scope("primary")


def test_later_stages_see_more() -> None:
    assert names_in_scope("primary") < names_in_scope("fallback") < names_in_scope("review")
