"""The triage's end of the environment process (environment_worker.py): the environment's API reads made in
a child that loaded the Google libraries on the other core meanwhile.

The child is kept and killed as infradiag/child_process.py says. Where no child can be started, it dies
before it answers, or it has not answered by the deadline, the reads are made in this process, within what
is left of the deadline.

Credentials stay here: the child gets the token they hold now (refreshed here first when it is stale), never
a key, and only through its stdin.
"""

from __future__ import annotations

import atexit
import dataclasses
import pickle
import time
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from infradiag.child_process import ChildGone, ChildProcess, Kept, wall_deadline

if TYPE_CHECKING:  # loaded when the environment is asked for: prestart() must cost next to nothing
    from infradiag.collect.collector import Collector, EnvironmentEvidence
    from infradiag.identity import Resolved
    from infradiag.target import Target

# How long after the deadline the child's answer may still come: its reads end by the deadline, and the
# answer then only crosses a pipe.
ANSWER_GRACE_S = 0.1


class EnvironmentProcessGone(ChildGone):
    """The child ended (or could not start) before it answered."""


class EnvironmentProcess(ChildProcess):
    """One running environment process (pickled messages: infradiag/collect/environment_worker.py)."""

    module = "infradiag.collect.environment_worker"
    what = "the environment process"
    gone = EnvironmentProcessGone

    async def environment(self, collector: Collector) -> EnvironmentEvidence:
        """collector.environment(), read in the child with the collector's target, clock, deadline and
        credentials; what the child's reads answered and failed is added to `collector`. Raises
        EnvironmentProcessGone if the child ended first, cannot be given a token, or has not answered by
        the deadline. Cancelled, it kills the child."""
        import asyncio  # here: prestart() (this module's import) must cost next to nothing

        ident, answer = self.new_request()
        deadline = collector.deadline
        try:
            try:
                access = await asyncio.to_thread(bearer_access, collector.clients.auth)
            except Exception as error:  # e.g. a refresh refused: the reads here say so, each as an unknown
                raise EnvironmentProcessGone(f"no token to give the environment process: {error}") from None
            target = target_fields(collector.target)
            self._send(("environment", ident, target, collector.now, wall_deadline(deadline), access))
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
            self.pending.pop(ident, None)
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
        self.write(data)

    def messages(self, out: IO[bytes]) -> Iterator[tuple[Any, ...]]:
        """The child's pickled tuples (the child is this package's own worker: trusted)."""
        while True:
            try:
                yield pickle.load(out)
            except EOFError:
                return
            except Exception:  # a reply that cannot be read: the child is no use any more
                self.kill()
                return

    def on_message(self, message: tuple[Any, ...]) -> None:
        """`("ready", pid)`, or an answer naming its request."""
        if message[0] == "ready":
            self.child_pid = message[1]
        else:
            self.answer(message[1], message)


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


_kept = Kept(EnvironmentProcess)
atexit.register(_kept.close)


def prestart() -> None:
    """Start the environment process now, in the background, if none is running: its libraries then load
    while this process does everything before its first read. Does nothing where no child can be
    started."""
    _kept.prestart()


async def environment_elsewhere(collector: Collector) -> EnvironmentEvidence:
    """collector.environment(), read in the environment process (started now if there is none); in this
    process where that process cannot run, ends before it answers or has not answered by the deadline
    (then the reads here are not started, and say so)."""
    try:
        return await _kept.running().environment(collector)
    except EnvironmentProcessGone:
        pass  # the reads are still owed, here, within what is left of the deadline
    return await collector.environment()


def child_pid() -> int | None:
    """The pid of the running environment process, once it reported ready; None if there is none."""
    return _kept.child_pid()
