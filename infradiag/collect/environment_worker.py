"""The environment process: every API read of a triage but Cloud Run's services, in a child of its own.

A cold triage spends most of its CPU loading the Google libraries (Compute's alone takes about 0.7 s), and
the interpreter runs one thread at a time: loaded in the triage's process, they delayed the listing of the
services and every probe after it (issue 16). Here they load on the other core, from the moment the triage
starts, while the triage's process loads only the Cloud Run client, lists the services and has them probed.
The reads themselves are the Collector's (collector.py), exactly as in the triage's process; only their
answer travels back.

Protocol (pickled tuples on stdin and stdout; infradiag/collect/environment_process.py is the other end, the
only one that ever writes to this process):

- out, once the libraries are loaded: `("ready", pid)`.
- in: `("environment", id, target_fields, now, deadline_at, access)`: `target_fields` rebuild the Target
  (without its Authenticator); `deadline_at` is the parent's deadline as a time.time() instant
  (child_process.wall_deadline), however long the request waited here while the libraries loaded; `access`
  is None
  (anonymous) or `(bearer_token, quota_project)`: the token the run's credentials hold, which this process
  sends as they are (the parent refreshes them).
- out: `("environment", id, EnvironmentEvidence, ReadLog)`, or `("crash", id, text)` for a bug here.

The parent owns Ctrl-C: this process ignores SIGINT and is killed when a run is cut. It ends when its stdin
closes, which also happens when the parent dies however it dies.
"""

from __future__ import annotations

import signal

# First, before the imports below take their time: a Ctrl-C meant for the parent must not kill this process
# with a traceback on the user's terminal.
signal.signal(signal.SIGINT, signal.SIG_IGN)

import gc  # noqa: E402

gc.disable()  # cycles are collected between requests (serve), never over the libraries' loading

import os  # noqa: E402
import pickle  # noqa: E402
import queue  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from typing import IO, Any  # noqa: E402

# Requests wait here from the start. The end of stdin ends this process at once, also while the libraries are
# still loading: a parent that is gone (a command line that turned out wrong, a Ctrl-C) leaves nothing to
# load them for.
_inbox: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()


def _receive(requests: IO[bytes]) -> None:
    while True:
        try:
            _inbox.put(pickle.load(requests))
        except (EOFError, pickle.UnpicklingError, OSError):
            os._exit(0)  # the parent closed the pipe: reads still running are moot


if __name__ == "__main__":
    threading.Thread(target=_receive, args=(sys.stdin.buffer,), name="requests", daemon=True).start()

import asyncio  # noqa: E402

from infradiag.child_process import Outbox, monotonic_deadline  # noqa: E402
from infradiag.collect.clients import ENVIRONMENT_CLIENTS, import_libraries  # noqa: E402
from infradiag.collect.collector import Collector  # noqa: E402
from infradiag.identity import Resolved  # noqa: E402
from infradiag.runtime import new_event_loop  # noqa: E402
from infradiag.target import Target  # noqa: E402


def send(outbox: Outbox, message: tuple[Any, ...]) -> None:
    """One pickled message to the parent, written and flushed whole."""
    outbox.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def credentials_of(access: tuple[str, str | None] | None) -> Resolved | None:
    """The run's credentials as this process uses them: the parent's current token, sent as is."""
    if access is None:
        return None
    from google.auth.transport.requests import Request
    from google.oauth2.credentials import Credentials

    token, quota_project = access
    # No expiry and nothing to refresh with: the token is the parent's, fresh when the request was made.
    credentials = Credentials(token=token, quota_project_id=quota_project)  # type: ignore[no-untyped-call]
    return Resolved(credentials, "", Request())


async def read_environment(request: tuple[Any, ...]) -> tuple[Any, ...]:
    """The answer to one environment request."""
    _, ident, target_fields, now, deadline_at, access = request
    target = Target(**target_fields)
    deadline = monotonic_deadline(deadline_at)
    collector = Collector(target, now, deadline, auth=credentials_of(access))
    try:
        found = await collector.environment()
    finally:
        collector.close()
    return ("environment", ident, found, collector.read_log())


async def serve(outbox: Outbox, inbox: queue.SimpleQueue[tuple[Any, ...]]) -> None:
    """Answer the requests of `inbox`, each as soon as it arrives, until the process ends."""
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()

    async def answer(request: tuple[Any, ...]) -> None:
        try:
            reply = await read_environment(request)
        except Exception as error:  # a bug here must not leave the parent waiting until its deadline
            reply = ("crash", request[1], f"{type(error).__name__}: {error}")
        send(outbox, reply)

    def finished(task: asyncio.Task[None]) -> None:
        running.discard(task)
        if not running:
            gc.collect()  # between runs, where it delays no read

    def start(request: tuple[Any, ...]) -> None:
        task = loop.create_task(answer(request))
        running.add(task)
        task.add_done_callback(finished)

    def hand_over() -> None:
        while True:
            loop.call_soon_threadsafe(start, inbox.get())

    threading.Thread(target=hand_over, name="hand-over", daemon=True).start()
    await loop.create_future()  # until stdin ends (_receive ends the process)


def main() -> None:
    """Load the libraries, then answer the parent's requests on stdout; the process ends when stdin
    closes."""
    outbox = Outbox()
    import_libraries(ENVIRONMENT_CLIENTS)
    gc.collect()
    send(outbox, ("ready", os.getpid()))
    loop = new_event_loop()
    try:
        loop.run_until_complete(serve(outbox, _inbox))
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
