"""Sweeps: triage environments on a schedule, keep the history, say what changed, log it for alerting."""
