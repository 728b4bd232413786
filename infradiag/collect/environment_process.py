"""The triage's end of the environment process (environment_worker.py): the environment's API reads made in
a child that loaded the Google libraries on the other core meanwhile.

The child is started as early as possible (prestart(), first thing in `infradiag triage`) and kept for the
next runs of the same process (sweep --every, gate --wait), so a warm triage pays nothing for it. A run that
is cut (its task cancelled: the deadline, Ctrl-C, SIGTERM turned into Ctrl-C) kills the child, whose reads
are moot; the next run starts a new one. Where no child can be started, or it dies before it answers, the
reads are made in this process, within what is left of the deadline.

Credentials stay here: the child gets the token they hold now (refreshed here first when it is stale), never
a key, and only through its stdin.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import dataclasses
import itertools
import pickle
import subprocess
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded when the environment is asked for: prestart() must cost next to nothing
    from infradiag.collect.collector import Collector, EnvironmentEvidence
    from infradiag.identity import Resolved
    from infradiag.target import Target


# How long after the deadline the child's answer may still come: its reads end by the deadline, and the
# answer then only crosses a pipe.
ANSWER_GRACE_S = 0.1


class EnvironmentProcessGone(RuntimeError):
    """The child ended (or could not start) before it answered."""


class EnvironmentProcess:
    """One running environment process; requests may overlap (each has its own id)."""

    def __init__(self) -> None:
        """Start the child at once; it takes requests once its libraries are loaded (requests wait in its
        stdin meanwhile). OSError if no child can be started."""
        self._child = subprocess.Popen(
            [sys.executable, "-m", "infradiag.collect.environment_worker"],
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
        self._pending: dict[int, concurrent.futures.Future[tuple[Any, ...]]] = {}
        self.pid = self._child.pid
        self.child_pid: int | None = None  # as the child reports it once ready
        threading.Thread(
            target=self._read, args=(self._child.stdout,), name="environment-process", daemon=True
        ).start()

    def alive(self) -> bool:
        """Whether the child is still there to take requests."""
        return self._child.poll() is None

    def kill(self) -> None:
        """End the child now; requests in flight fail with EnvironmentProcessGone."""
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()

    def close(self) -> None:
        """Let the child end on its own (its stdin closes)."""
        with contextlib.suppress(OSError):  # already gone: nothing to tell it
            self._stdin.close()

    async def environment(self, collector: Collector) -> EnvironmentEvidence:
        """collector.environment(), read in the child with the collector's target, clock, deadline and
        credentials; what the child's reads answered and failed is added to `collector`. Raises
        EnvironmentProcessGone if the child ended first. Cancelled, it kills the child."""
        import asyncio  # here: prestart() (this module's import) must cost next to nothing

        ident = next(self._ids)
        answer: concurrent.futures.Future[tuple[Any, ...]] = concurrent.futures.Future()
        self._pending[ident] = answer
        deadline = collector.deadline
        try:
            try:
                access = await asyncio.to_thread(bearer_access, collector.clients.auth)
            except Exception as error:  # e.g. a refresh refused: the reads here say so, each as an unknown
                raise EnvironmentProcessGone(f"no token to give the environment process: {error}") from None
            left = None if deadline is None else deadline - time.monotonic()
            target = target_fields(collector.target)
            self._send(("environment", ident, target, collector.now, left, time.time(), access))
            waited = None if deadline is None else deadline - time.monotonic() + ANSWER_GRACE_S
            reply = await asyncio.wait_for(asyncio.wrap_future(answer), timeout=waited)
        except TimeoutError:
            # Still loading its libraries at the deadline (a cold start on a busy machine): its answer
            # would come too late; this process says what was not read. The child is kept for later runs.
            raise EnvironmentProcessGone("the environment process did not answer by the deadline") from None
        except asyncio.CancelledError:
            self.kill()
            raise
        finally:
            self._pending.pop(ident, None)
        if reply[0] != "environment":
            raise EnvironmentProcessGone(f"the environment process failed: {reply[2]}")
        _, _, found, log = reply
        collector.absorb(log)
        return found  # type: ignore[no-any-return]

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # something of the target that cannot cross: the reads are made here
            raise EnvironmentProcessGone(f"the request cannot be sent ({error})") from None
        try:
            with self._lock:
                self._stdin.write(data)
                self._stdin.flush()
        except (OSError, ValueError) as error:  # ValueError: the pipe was closed here
            raise EnvironmentProcessGone(f"the environment process is gone ({error})") from None

    def _read(self, out: IO[bytes]) -> None:
        while True:
            try:
                message = pickle.load(out)  # the child is this package's own worker: trusted
            except EOFError:
                break
            except Exception:  # a reply that cannot be read: the child is no use any more
                self.kill()
                break
            if message[0] == "ready":
                self.child_pid = message[1]
            elif (waiting := self._pending.get(message[1])) is not None and not waiting.done():
                waiting.set_result(message)
        code = self._child.wait()
        for waiting in list(self._pending.values()):
            if not waiting.done():
                gone = EnvironmentProcessGone(f"the environment process ended (exit status {code})")
                waiting.set_exception(gone)


def target_fields(target: Target) -> dict[str, Any]:
    """What rebuilds `target` in the child: every field but its Authenticator (the child is given the
    token, not the means to get one)."""
    return {f.name: getattr(target, f.name) for f in dataclasses.fields(target) if f.name != "auth"}


def bearer_access(auth: Resolved | None) -> tuple[str, str | None] | None:
    """The token the run's credentials send now (refreshed first if stale), and their quota project; None
    when they send none (anonymous). Blocking: a refresh is a network call."""
    if auth is None:
        return None
    headers: dict[str, str] = {}
    # before_request is how every client gets its Authorization header: refresh if needed, then apply.
    auth.credentials.before_request(auth.request, "GET", "https://www.googleapis.com/", headers)
    authorization = headers.get("authorization") or headers.get("Authorization")
    if authorization is None:
        return None
    return authorization.removeprefix("Bearer "), getattr(auth.credentials, "quota_project_id", None)


_lock = threading.Lock()
_current: EnvironmentProcess | None = None


def prestart() -> None:
    """Start the environment process now, in the background, if none is running: its libraries then load
    while this process does everything before its first read. Does nothing where no child can be
    started."""
    with contextlib.suppress(EnvironmentProcessGone):
        _running()


def _running() -> EnvironmentProcess:
    global _current
    with _lock:
        if _current is None or not _current.alive():
            try:
                _current = EnvironmentProcess()
            except OSError as error:
                raise EnvironmentProcessGone(f"cannot start the environment process: {error}") from None
        return _current


async def environment_elsewhere(collector: Collector) -> EnvironmentEvidence:
    """collector.environment(), read in the environment process (started now if there is none); in this
    process where that process cannot run, ends before it answers or has not answered by the deadline
    (then the reads here are not started, and say so)."""
    try:
        return await _running().environment(collector)
    except EnvironmentProcessGone:
        pass  # the reads are still owed, here, within what is left of the deadline
    return await collector.environment()


@atexit.register
def _close() -> None:
    if _current is not None:
        _current.close()


def child_pid() -> int | None:
    """The pid of the running environment process, once it reported ready; None if there is none."""
    current = _current
    return current.child_pid if current is not None and current.alive() else None
