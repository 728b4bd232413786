"""`apiFaults` of a scenario: which API calls fail or are slow, and for how many calls."""

from __future__ import annotations

import threading

from infradiag.twin.scenario import ApiFault

# google.rpc.Code -> HTTP status, per https://cloud.google.com/apis/design/errors#handling_errors
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class FaultInjector:
    """Matches calls against the scenario's faults, counting down each fault's `times`."""

    def __init__(self, faults: list[ApiFault]) -> None:
        self._faults = list(faults)
        self._used = [0] * len(self._faults)
        self._lock = threading.Lock()

    def match(self, api: str, method: str) -> ApiFault | None:
        """The first fault that applies to this call (consuming one of its `times`), or None."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.api != api or (fault.method is not None and fault.method != method):
                    continue
                if fault.times is not None and self._used[index] >= fault.times:
                    continue
                self._used[index] += 1
                return fault
        return None
