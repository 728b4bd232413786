"""Probes: what each service's health endpoints answer, as ProbeResult evidence."""

from infradiag.probe.engine import probe_all, probe_services
from infradiag.probe.targets import probe_targets
from infradiag.probe.text import excerpt, redact

__all__ = ["excerpt", "probe_all", "probe_services", "probe_targets", "redact"]
