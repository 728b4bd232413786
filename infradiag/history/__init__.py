"""Sweep history: one SQLite database (or one per environment), written one transaction per sweep."""

from infradiag.history.location import HistoryLocation
from infradiag.history.records import FindingRecord, Notification, SweepRecord, record_from_report
from infradiag.history.store import HistoryStore, Recorded

__all__ = [
    "FindingRecord",
    "HistoryLocation",
    "HistoryStore",
    "Notification",
    "Recorded",
    "SweepRecord",
    "record_from_report",
]
