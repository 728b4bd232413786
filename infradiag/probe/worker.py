"""The probe process: a lean child that sends a triage's probes and times them where nothing else runs.

A probe's timings are the service's only if the event loop that times it is free the whole time. In the
triage's own process it is not: the Google libraries' imports, API answers being parsed and playbooks being
compiled take the interpreter for tens to hundreds of milliseconds at a time, and that stall was reported as
the service's latency (issue 16). This process imports only what probing needs (httpx, httpcore, the
evidence models, this package) and does nothing but probe.

Protocol (one JSON object a line; infradiag/probe/process.py is the other end):

- in:  `{"op": "probe", "id": N, "targets": [ProbeTarget...], "options": {...}, "ca_pem": str|null,
  "deadline_at": float|null, "environ": {VAR: value}}` (`deadline_at`: the parent's deadline as a
  time.time() instant, child_process.wall_deadline; `environ`: the variables of the targets' `env:VAR`
  tokens, as the parent sees them); the results come back as `{"op": "results", "id": N, "results":
  [ProbeResult...]}`, or `{"op": "error", "id": N, ...}` for invalid arguments (probe_all's ValueError or
  UsageError, raised before anything is sent).
- out: `{"op": "token", "id": N, "key": K, "audience": A, "timeout_s": T}` asks the parent for an ID token
  (the run's credentials live there); in: `{"op": "token", "key": K, "token": T}` or `{..., "error": E}`.

The parent owns Ctrl-C: this process ignores SIGINT and is killed when a run is cut. It ends when its stdin
closes, which is also what happens when the parent dies however it dies.
"""

from __future__ import annotations

import signal

# First, before the imports below take their time: a Ctrl-C meant for the parent must not kill this process
# with a traceback on the user's terminal.
signal.signal(signal.SIGINT, signal.SIG_IGN)

import gc  # noqa: E402

gc.disable()  # cycles are collected between requests (serve), never over the imports or the probes

from infradiag.unused_parts import keep_unused_parts_out  # noqa: E402

keep_unused_parts_out()  # before httpx loads

import asyncio  # noqa: E402
import concurrent.futures  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import ssl  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from typing import Any, BinaryIO  # noqa: E402

from infradiag.child_process import Outbox, monotonic_deadline  # noqa: E402
from infradiag.errors import UsageError  # noqa: E402
from infradiag.evidence.model import ProbeTarget  # noqa: E402
from infradiag.probe.engine import probe_all  # noqa: E402
from infradiag.runtime import new_event_loop  # noqa: E402


class Channel:
    """This end of the pipe pair: whole lines out (from any thread), ID tokens asked of the parent."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self._keys = itertools.count()
        self._tokens: dict[int, concurrent.futures.Future[str]] = {}

    def send(self, message: dict[str, Any]) -> None:
        """One message, written and flushed whole."""
        self._outbox.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def id_token(self, request: int, audience: str, timeout_s: float) -> str:
        """An ID token for `audience` from the parent's credentials (blocking; called on a thread by
        probe.auth.Credentials); TimeoutError after `timeout_s`, RuntimeError with the parent's reason."""
        key = next(self._keys)
        answer: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._tokens[key] = answer
        try:
            self.send(
                {"op": "token", "id": request, "key": key, "audience": audience, "timeout_s": timeout_s}
            )
            return answer.result(timeout=timeout_s)
        finally:
            self._tokens.pop(key, None)

    def answer(self, message: dict[str, Any]) -> None:
        """The parent's answer to a token request."""
        waiting = self._tokens.get(message["key"])
        if waiting is None:  # given up already
            return
        if "token" in message:
            waiting.set_result(message["token"])
        else:
            waiting.set_exception(RuntimeError(message["error"]))


async def probe(channel: Channel, request: dict[str, Any]) -> dict[str, Any]:
    """The answer to one probe request."""
    ident = request["id"]
    options = request["options"]
    verify: bool | ssl.SSLContext = True
    if request.get("ca_pem"):
        verify = ssl.create_default_context(cadata=request["ca_pem"])
    deadline = monotonic_deadline(request.get("deadline_at"))
    try:
        results = await probe_all(
            [ProbeTarget.model_validate(t) for t in request["targets"]],
            verify=verify,
            deadline=deadline,
            id_token=lambda audience, timeout_s: channel.id_token(ident, audience, timeout_s),
            environ=request["environ"],
            **options,
        )
    except UsageError as error:
        return {"op": "error", "id": ident, "usage": [error.where, error.problem, error.fix]}
    except ValueError as error:
        return {"op": "error", "id": ident, "value": str(error)}
    return {"op": "results", "id": ident, "results": [r.model_dump(mode="json") for r in results]}


async def serve(channel: Channel, requests: BinaryIO) -> None:
    """Answer probe requests, each as soon as it arrives, until `requests` ends."""
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()
    ended = loop.create_future()

    async def answer(request: dict[str, Any]) -> None:
        try:
            reply = await probe(channel, request)
        except Exception as error:  # a bug here must not leave the parent waiting until its deadline
            reply = {"op": "error", "id": request["id"], "crash": f"{type(error).__name__}: {error}"}
        channel.send(reply)

    def finished(task: asyncio.Task[None]) -> None:
        running.discard(task)
        if not running:
            gc.collect()  # between runs, where it delays no probe

    def start(request: dict[str, Any]) -> None:
        task = loop.create_task(answer(request))
        running.add(task)
        task.add_done_callback(finished)

    def read() -> None:
        # Blocking reads on a thread of their own: token answers must arrive while the loop is busy probing.
        for line in requests:
            message = json.loads(line)
            if message["op"] == "token":
                channel.answer(message)
            else:
                loop.call_soon_threadsafe(start, message)
        loop.call_soon_threadsafe(ended.set_result, None)

    threading.Thread(target=read, name="requests", daemon=True).start()
    await ended


async def warm_up() -> None:
    """One probe of a loopback server of this process's own, before any request is read: the first probe of
    a process pays for code paths run for the first time (about 40 ms on a loaded machine), which would
    otherwise be reported as the latency of the first services probed. The process starts while the triage
    loads its libraries, so this costs a triage nothing."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b'{"status": "ok"}'
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/health"
        await probe_all([ProbeTarget(service="warm-up", url=url, path="/health")], timeout_s=5.0)
    finally:
        server.close()


def main() -> None:
    """Serve the parent on stdin/stdout; exit when stdin closes (at once: probes still running are moot)."""
    channel = Channel(Outbox())
    loop = new_event_loop()
    try:
        try:
            loop.run_until_complete(warm_up())
        except Exception as error:  # no loopback server here: the probes are still better made here
            print(f"infradiag: the probe process could not warm up: {error}", file=sys.stderr)
        gc.collect()
        channel.send({"op": "ready", "pid": os.getpid()})
        loop.run_until_complete(serve(channel, sys.stdin.buffer))
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
