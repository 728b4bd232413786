"""The CEL dialect playbooks are written in: CEL's standard functions, the formatting helpers of
infradiag.cel, and the named helpers below that build the text of a finding (tested one by one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infradiag.cel import Dialect
from infradiag.diagnose.runfixes import revision_fix

PLAYBOOK_FUNCTIONS: dict[str, Callable[..., Any]] = {
    # The specific fix for a revision that did not become ready, from its condition message (runfixes.py).
    "revision_fix": revision_fix,
}
PLAYBOOK_CEL = Dialect(PLAYBOOK_FUNCTIONS)
