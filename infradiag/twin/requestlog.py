"""What the twin was asked: every API call, so tests can prove which calls infradiag made."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class LoggedCall:
    api: str  # run | vpcaccess | compute | sql | monitoring | iam
    method: str  # the RPC name, e.g. ListServices
    transport: str  # rest | grpc
    target: str  # path (REST) or full method (gRPC)
    mutating: bool
    code: str  # google.rpc code name of the answer, OK on success


class RequestLog:
    """A thread-safe, append-only list of LoggedCall."""

    def __init__(self) -> None:
        self._calls: list[LoggedCall] = []
        self._lock = threading.Lock()

    def record(self, call: LoggedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[LoggedCall]:
        """A snapshot of every call so far, oldest first."""
        with self._lock:
            return list(self._calls)
