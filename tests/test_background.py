"""Background: fn() runs once, on the thread that needs it first, and its outcome reaches every waiter."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from infradiag.background import Background


class Recorder:
    """A function that notes each thread it ran on."""

    def __init__(self, value: int = 42, pause_s: float = 0.0, error: Exception | None = None) -> None:
        self.threads: list[threading.Thread] = []
        self.value = value
        self.pause_s = pause_s
        self.error = error

    def __call__(self) -> int:
        self.threads.append(threading.current_thread())
        time.sleep(self.pause_s)
        if self.error is not None:
            raise self.error
        return self.value


def test_a_result_nobody_started_is_computed_on_the_waiting_thread() -> None:
    fn = Recorder()
    work = Background(fn, "work")
    assert work.result() == 42
    assert work.result() == 42
    assert fn.threads == [threading.current_thread()]


def test_a_started_one_runs_on_a_thread_of_its_own() -> None:
    fn = Recorder()
    work = Background(fn, "work")
    work.start()
    work.start()
    assert work.result() == 42
    assert len(fn.threads) == 1
    assert fn.threads[0] is not threading.current_thread()
    assert fn.threads[0].name == "work"


def test_its_error_is_raised_to_every_waiter() -> None:
    work = Background(Recorder(error=ValueError("bad playbook")), "work")
    for _ in range(2):
        with pytest.raises(ValueError, match="bad playbook"):
            work.result()


def test_waiters_on_two_threads_share_one_run() -> None:
    fn = Recorder(pause_s=0.2)
    work = Background(fn, "work")
    seen: list[int] = []
    other = threading.Thread(target=lambda: seen.append(work.result()))
    other.start()
    seen.append(work.result())
    other.join()
    assert seen == [42, 42]
    assert len(fn.threads) == 1


def test_waiting_in_an_event_loop_leaves_the_loop_free() -> None:
    fn = Recorder(pause_s=0.3)
    work = Background(fn, "work")
    ticks: list[float] = []

    async def main() -> int:
        async def tick() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)

        ticker = asyncio.create_task(tick())
        try:
            return await work.wait()
        finally:
            ticker.cancel()

    assert asyncio.run(main()) == 42
    assert fn.threads[0] is not threading.current_thread()
    assert len(ticks) >= 5  # the loop ran while fn() slept on its own thread
