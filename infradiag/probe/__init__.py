"""Probes: what each service's health endpoints answer, as ProbeResult evidence.

The names below load on first use, so that importing infradiag.probe.process (which starts the probe
process as early as a command can) costs nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infradiag.probe.dispatch import probe_services
    from infradiag.probe.engine import probe_all
    from infradiag.probe.targets import probe_targets
    from infradiag.probe.text import excerpt, redact

__all__ = ["excerpt", "probe_all", "probe_services", "probe_targets", "redact"]
_HOMES = {
    "probe_all": "engine",
    "probe_services": "dispatch",
    "probe_targets": "targets",
    "excerpt": "text",
    "redact": "text",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"infradiag.probe.{_HOMES[name]}"), name)
