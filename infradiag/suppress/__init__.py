"""Accepted findings: a YAML file of suppressions (cause, resource, reason, expiry) a triage honours."""

from infradiag.suppress.apply import apply_suppressions
from infradiag.suppress.model import Suppression, causes_of, load_suppressions

__all__ = ["Suppression", "apply_suppressions", "causes_of", "load_suppressions"]
