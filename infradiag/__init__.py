"""infradiag: one command from "staging answers 503" to a ranked remediation plan."""

__version__ = "0.1.0"
