"""The event loop the commands run on: uvloop's where it is installed (not on Windows), else asyncio's own.

A triage's critical path is the event loop sending a fleet's probes and reading their answers; uvloop does the
loop's own share of that (transports, selectors, callbacks) in C, which took a tenth off a 200-service
triage (bench/triage_scale.py). Behaviour is the same: the probes' errors are the same OSError and
ssl.SSLError classes, which the probe tests check on this very loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`main` run to completion on a new event loop, closed afterwards, as asyncio.run does."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
