"""The child processes a triage works with (the probe process, the environment process): both ends of the
pipes between them, and the one child of each kind that a process keeps.

A child is `python -m MODULE`; it reads requests on its stdin and writes answers on its stdout, each answer
naming the request it answers. It is started as early as possible (prestart()) and kept for the next runs of
the same process (sweep --every, gate --wait), so a warm triage pays nothing for it; a run that is cut kills
it, and the next run starts another. Its own start-up (loading libraries) overlaps the parent's on the other
core. It ignores Ctrl-C (the parent owns it) and ends when its stdin closes, which also happens when the
parent dies however it dies.

Light on purpose: prestart() runs before anything else a command loads.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any, Generic, TypeVar


def wall_deadline(deadline: float | None) -> float | None:
    """A time.monotonic() deadline as a time.time() instant, to send to a child: the wall clock is the one
    clock two processes surely share, and a request that waited while the child started keeps the run's
    deadline."""
    return None if deadline is None else time.time() + (deadline - time.monotonic())


def monotonic_deadline(at: float | None) -> float | None:
    """A wall_deadline() back on this process's time.monotonic()."""
    return None if at is None else time.monotonic() + (at - time.time())


class ChildGone(RuntimeError):
    """The child ended (or could not start) before it answered."""


class ChildProcess:
    """One running child; requests may overlap (each has its own id, from `new_request`). Subclasses say how
    messages are read (`messages`) and what an answer is (`on_message`)."""

    module: str  # what `python -m` runs
    what: str  # its name in messages, e.g. "the probe process"
    gone: type[ChildGone] = ChildGone

    def __init__(self) -> None:
        """Start the child at once; it takes requests once it is ready (they wait in its stdin meanwhile).
        OSError if no child can be started."""
        self._child = subprocess.Popen(
            [sys.executable, "-m", self.module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # A terminal's Ctrl-C goes to its foreground process group: only this process must get it.
            start_new_session=True,
            close_fds=True,
        )
        assert self._child.stdin is not None and self._child.stdout is not None
        self._stdin: IO[bytes] = self._child.stdin
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self.pending: dict[int, concurrent.futures.Future[Any]] = {}
        self.pid = self._child.pid
        self.child_pid: int | None = None  # as the child reports it once ready
        threading.Thread(
            target=self._read, args=(self._child.stdout,), name=self.reader_name(), daemon=True
        ).start()

    @classmethod
    def reader_name(cls) -> str:
        """The name of the thread that reads a child of this kind ("probe-process")."""
        return cls.what.removeprefix("the ").replace(" ", "-")

    def alive(self) -> bool:
        """Whether the child is still there to take requests."""
        return self._child.poll() is None

    def kill(self) -> None:
        """End the child now; requests in flight fail with `gone`."""
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()

    def close(self) -> None:
        """Let the child end on its own (its stdin closes)."""
        with contextlib.suppress(OSError):  # already gone: nothing to tell it
            self._stdin.close()

    def new_request(self) -> tuple[int, concurrent.futures.Future[Any]]:
        """An id for a request, and the future its answer settles (to be removed from `pending` when done)."""
        ident = next(self._ids)
        answer: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.pending[ident] = answer
        return ident, answer

    def write(self, data: bytes) -> None:
        """Send one whole message (from any thread); `gone` if the child's stdin is closed."""
        try:
            with self._lock:
                self._stdin.write(data)
                self._stdin.flush()
        except (OSError, ValueError) as error:  # ValueError: the pipe was closed here
            raise self.gone(f"{self.what} is gone ({error})") from None

    def answer(self, ident: int, message: Any) -> None:
        """Settle the request `ident` with `message`, if anyone still waits for it."""
        waiting = self.pending.get(ident)
        if waiting is not None and not waiting.done():
            waiting.set_result(message)

    def messages(self, out: IO[bytes]) -> Iterator[Any]:
        """The child's messages, until its stdout ends."""
        raise NotImplementedError

    def on_message(self, message: Any) -> None:
        """Act on one message of the child."""
        raise NotImplementedError

    def _read(self, out: IO[bytes]) -> None:
        for message in self.messages(out):
            self.on_message(message)
        code = self._child.wait()
        for waiting in list(self.pending.values()):
            if not waiting.done():
                waiting.set_exception(self.gone(f"{self.what} ended (exit status {code})"))


P = TypeVar("P", bound=ChildProcess)


class Kept(Generic[P]):
    """The one child of a kind this process keeps: started on demand, again after it ended."""

    def __init__(self, kind: type[P]) -> None:
        self._kind = kind
        self._lock = threading.Lock()
        self.current: P | None = None

    def prestart(self) -> None:
        """Start the child now, in the background, if none is running: its start-up then overlaps whatever
        this process does before it needs the child. Does nothing where no child can be started."""
        with contextlib.suppress(ChildGone):
            self.running()

    def running(self) -> P:
        """The running child, started now if there is none; `gone` if none can be started."""
        with self._lock:
            if self.current is None or not self.current.alive():
                try:
                    self.current = self._kind()
                except OSError as error:
                    raise self._kind.gone(f"cannot start {self._kind.what}: {error}") from None
            return self.current

    def child_pid(self) -> int | None:
        """The pid of the running child, once it reported ready; None if there is none."""
        current = self.current
        return current.child_pid if current is not None and current.alive() else None

    def close(self) -> None:
        """Let the running child end (at this process's exit)."""
        if self.current is not None:
            self.current.close()


class Outbox:
    """The child's end of its stdout: whole messages, from any thread; a parent that is gone ends the child
    (nobody is left to work for)."""

    def __init__(self) -> None:
        """Take fd 1 for the protocol: anything printed in this process goes to stderr instead."""
        self._out = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        """One message, written and flushed whole."""
        with self._lock:
            try:
                self._out.write(data)
                self._out.flush()
            except BrokenPipeError:
                os._exit(0)
