"""Reports of a triage: the v1 JSON contract, and views of it (terminal, ...)."""
