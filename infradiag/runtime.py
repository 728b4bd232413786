"""How the commands run: on which event loop, with what Ctrl-C does, and when reference cycles are collected.

The event loop is uvloop's where it is installed (not on Windows), else asyncio's own.

A triage's critical path is the event loop sending a fleet's probes and reading their answers; uvloop does the
loop's own share of that (transports, selectors, callbacks) in C, which took a tenth off a 200-service
triage (bench/triage_scale.py). Behaviour is the same: the probes' errors are the same OSError and
ssl.SSLError classes, which the probe tests check on this very loop.

Ctrl-C cancels the running coroutine, as asyncio.run does, and always ends in KeyboardInterrupt: asyncio's
Runner forgets an interrupt that arrives as the coroutine finishes (the cancellation finds nothing left to
cancel and the result is returned), which let `sweep --every` carry on sweeping after a Ctrl-C.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")
# How often an interrupted run's cancellation is repeated until the run has ended (run()).
RECANCEL_S = 0.1


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop of the kind run() uses (uvloop's where installed)."""
    factory = _loop_factory()
    return factory() if factory is not None else asyncio.new_event_loop()


async def within(work: Awaitable[T], seconds: float) -> T:
    """`work`'s result if it comes within `seconds`, else TimeoutError (`work` cancelled), also for a result
    that comes together with the timeout: asyncio.wait_for returns a result that reached the event loop
    before the timer did, which a run whose last steps keep the loop busy past a tiny deadline makes
    likely. A deadline is the user's: what comes after it is late, whatever the loop was doing."""
    ends = time.monotonic() + seconds
    result = await asyncio.wait_for(work, timeout=seconds)
    if time.monotonic() > ends:
        raise TimeoutError(f"the result came {time.monotonic() - ends:.3f} s after the deadline")
    return result


def run(main: Coroutine[Any, Any, T]) -> T:
    """`main` run to completion on a new event loop, closed afterwards. A SIGINT meanwhile cancels `main`
    and raises KeyboardInterrupt here, however `main` ends; a second one raises it at once."""
    interrupted = False
    running: asyncio.Task[T] | None = None

    async def tracked() -> T:
        nonlocal running
        running = asyncio.current_task()
        return await main

    def keep_cancelling(task: asyncio.Task[T]) -> None:
        # Python 3.11's asyncio.wait_for loses a cancellation that lands as its inner awaitable completes
        # (https://github.com/python/cpython/issues/86296), and the run then carried on to its deadline: so
        # the cancellation is repeated until the task has ended.
        if not task.done():
            task.cancel()
            task.get_loop().call_later(RECANCEL_S, keep_cancelling, task)

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        if interrupted or running is None:
            raise KeyboardInterrupt
        interrupted = True
        running.get_loop().call_soon_threadsafe(keep_cancelling, running)

    handle = threading.current_thread() is threading.main_thread()
    handle = handle and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if handle:
        signal.signal(signal.SIGINT, on_sigint)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            try:
                result = runner.run(tracked())
            except asyncio.CancelledError:
                if interrupted:
                    raise KeyboardInterrupt from None
                raise
    finally:
        if handle:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if interrupted:
        raise KeyboardInterrupt
    return result


def collect_cycles_only_when_idle() -> None:
    """From now on this process collects reference cycles only when told to (gc.collect()), never in the
    middle of a triage.

    A triage allocates hundreds of thousands of short-lived objects (API messages, probe results, evidence)
    next to the long-lived ones of the Google libraries, so automatic collection keeps walking the latter: at
    200 services it was a third of the CPU time of a triage, and a collection landing between two probes
    delays every probe after it (bench/triage_scale.py). Reference counting still frees almost everything at
    once. A command that triages once ends before cycles matter; one that triages again and again (sweep
    --every, gate --wait) calls collect_cycles_now() while it waits."""
    gc.disable()


def collect_cycles_now() -> None:
    """One full collection of reference cycles; a Ctrl-C meanwhile is handed to the SIGINT handler after it
    (by default: KeyboardInterrupt).

    A collection runs finalizers and weakref callbacks, and an exception raised inside one of those is
    printed and ignored: a KeyboardInterrupt landing there was lost, and `sweep --every` swept on."""
    if threading.current_thread() is not threading.main_thread():
        gc.collect()
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        gc.collect()
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and callable(previous):
        previous(signal.SIGINT, None)
    elif received and previous != signal.SIG_IGN:
        raise KeyboardInterrupt
