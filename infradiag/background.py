"""Work started on a thread when the interpreter would otherwise wait, its result awaited where needed.

A cold triage's critical path is mostly waiting (for the services' listing, then for the probes); the
interpreter runs one thread at a time, so work that the critical path does not need (loading the diagnosis'
modules and playbooks) costs it nothing only if it runs during those waits, not before them (issue 16).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """fn() run once: on a daemon thread from start(), or else by the first caller of result() on its own
    thread (a thread that would only wait for another is not started)."""

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self._fn = fn
        self._name = name
        self._future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._started = False
        self._lock = threading.Lock()

    def _claim(self) -> bool:
        """True for the one caller that is to run fn()."""
        with self._lock:
            if self._started:
                return False
            self._started = True
            return True

    def start(self) -> None:
        """Start fn() on a thread of its own now, unless it was started already."""
        if self._claim():
            threading.Thread(target=self._run, name=self._name, daemon=True).start()

    def _run(self) -> None:
        try:
            self._future.set_result(self._fn())
        except BaseException as error:  # the waiter gets it, as if it had called fn() itself
            self._future.set_exception(error)

    def result(self) -> T:
        """fn()'s result, or its exception raised here: run on this thread if nothing started it yet,
        else waited for."""
        if self._claim():
            self._run()
        return self._future.result()

    async def wait(self) -> T:
        """As result(), without blocking the event loop (fn() runs on a thread of its own)."""
        self.start()
        return await asyncio.wrap_future(self._future)
