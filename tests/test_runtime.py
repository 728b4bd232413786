"""infradiag.runtime: run and collect_cycles_now: the commands' loop, and Ctrl-C that is never lost."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import pytest

from infradiag import runtime


def test_runs_a_coroutine_to_its_result_on_uvloop_where_installed() -> None:
    async def loop_name() -> str:
        return type(asyncio.get_running_loop()).__module__

    name = runtime.run(loop_name())
    try:
        import uvloop  # noqa: F401
    except ImportError:
        assert name.startswith("asyncio")
    else:
        assert name.startswith("uvloop")


def test_an_interrupt_cancels_the_coroutine_and_raises_keyboard_interrupt() -> None:
    seen: list[str] = []

    async def waits() -> None:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    with pytest.raises(KeyboardInterrupt):
        runtime.run(waits())
    assert seen == ["cancelled"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_as_the_coroutine_finishes_is_not_lost() -> None:
    async def finishes_as_interrupted() -> int:
        os.kill(os.getpid(), signal.SIGINT)  # handled at once; the cancellation finds the task finishing
        return 42

    with pytest.raises(KeyboardInterrupt):
        runtime.run(finishes_as_interrupted())


def test_an_interrupt_swallowed_by_the_coroutine_still_ends_the_command() -> None:
    async def ignores_cancellation() -> str:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "carried on"  # as a race in asyncio.wait_for can
        return "slept"

    with pytest.raises(KeyboardInterrupt):
        runtime.run(ignores_cancellation())


def test_an_interrupt_lost_by_one_await_still_ends_the_run_at_once_not_at_its_end() -> None:
    import time

    async def loses_one_cancellation() -> str:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
        # Lost, as Python 3.11's asyncio.wait_for can lose one: the run carries on.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)
        await asyncio.sleep(30)
        return "ran to its end"

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        runtime.run(loses_one_cancellation())
    assert time.monotonic() - started < 10  # not after the 30 s the run would have gone on for


def test_an_interrupt_during_a_collection_is_raised_after_it_not_lost_in_a_finalizer() -> None:
    from infradiag.runtime import collect_cycles_now

    finalized: list[str] = []

    class InterruptedWhileCollected:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the cyclic collector frees it

        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, inside the finalizer
            finalized.append("done")

    InterruptedWhileCollected()
    with pytest.raises(KeyboardInterrupt):
        collect_cycles_now()
    assert finalized == ["done"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_result_that_comes_after_the_deadline_is_late_even_when_the_loop_was_too_busy_to_time_it() -> None:
    import time

    async def busy() -> str:
        await asyncio.sleep(0)
        time.sleep(0.05)  # the loop cannot fire the timer before this returns
        return "late"

    async def fast() -> str:
        return "in time"

    with pytest.raises(TimeoutError):
        runtime.run(runtime.within(busy(), 0.01))
    assert asyncio.run(asyncio.wait_for(busy(), timeout=0.01)) == "late"  # what wait_for alone says
    assert runtime.run(runtime.within(fast(), 5)) == "in time"
