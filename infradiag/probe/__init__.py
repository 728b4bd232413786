"""Probes: what each service's health endpoints answer, as ProbeResult evidence."""

from infradiag.probe.http import excerpt, probe_all, redact

__all__ = ["excerpt", "probe_all", "redact"]
