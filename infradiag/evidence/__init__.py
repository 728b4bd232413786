"""Plain, typed evidence: what probe and collect hand to the diagnosis. No GCP client objects here."""

from infradiag.evidence.model import (
    ConnectorEvidence,
    Evidence,
    Outcome,
    ProbePhases,
    ProbeResult,
    ProbeTarget,
    ServiceEvidence,
    Unknown,
)

__all__ = [
    "ConnectorEvidence",
    "Evidence",
    "Outcome",
    "ProbePhases",
    "ProbeResult",
    "ProbeTarget",
    "ServiceEvidence",
    "Unknown",
]
