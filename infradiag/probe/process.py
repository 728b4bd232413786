"""The triage's end of the probe process (infradiag/probe/worker.py): probes sent and timed in a child.

The child is started as early as possible (prestart(), when infradiag.triage is imported, so that it boots
on the other core while this process loads the Google libraries) and kept for the next runs of the same
process (sweep --every, gate --wait), so a warm triage pays nothing for it. A run that is cut (its task
cancelled: the deadline, Ctrl-C, SIGTERM turned into Ctrl-C) kills the child, whose probes are moot; the
next run starts a new one. Where no child can be started (no interpreter to run), probes run in this
process, as before.

ID tokens for private services are minted here, with the run's credentials, when the child asks for them.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from infradiag.errors import UsageError

if TYPE_CHECKING:  # loaded when a probe is asked for: prestart() must cost next to nothing
    from infradiag.evidence.model import ProbeResult, ProbeTarget

IdToken = Callable[[str, float], str]


class ProbeProcessGone(RuntimeError):
    """The child ended (or could not start) before it answered."""


class ProbeProcess:
    """One running probe process; requests may overlap (each has its own id)."""

    def __init__(self) -> None:
        """Start the child at once; it is ready for requests after its imports (requests wait in its
        stdin meanwhile). OSError if no child can be started."""
        self._child = subprocess.Popen(
            [sys.executable, "-m", "infradiag.probe.worker"],
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
        self._pending: dict[int, concurrent.futures.Future[dict[str, Any]]] = {}
        self._id_tokens: dict[int, IdToken | None] = {}
        self.pid = self._child.pid
        self.child_pid: int | None = None  # as the child reports it once ready
        threading.Thread(
            target=self._read, args=(self._child.stdout,), name="probe-process", daemon=True
        ).start()

    def alive(self) -> bool:
        """Whether the child is still there to take requests."""
        return self._child.poll() is None

    def kill(self) -> None:
        """End the child now; requests in flight fail with ProbeProcessGone."""
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()

    def close(self) -> None:
        """Let the child end on its own (its stdin closes)."""
        with contextlib.suppress(OSError):  # already gone: nothing to tell it
            self._stdin.close()

    async def probe(
        self,
        targets: list[ProbeTarget],
        options: dict[str, Any],
        ca_pem: str | None,
        deadline: float | None,
        id_token: IdToken | None,
    ) -> list[ProbeResult]:
        """probe_all(targets, **options) in the child, ending by `deadline` (a time.monotonic() instant),
        trusting `ca_pem` besides the system's CAs. Raises as probe_all does for invalid arguments, and
        ProbeProcessGone if the child ended first. Cancelled, it kills the child."""
        import asyncio  # here: prestart() (this module's import) must cost next to nothing

        ident = next(self._ids)
        answer: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        self._pending[ident] = answer
        self._id_tokens[ident] = id_token
        left = None if deadline is None else deadline - time.monotonic()
        # `env:VAR` tokens as this process sees them now: the child's environment is a copy from its start.
        named = {t.auth.removeprefix("env:") for t in targets if t.auth and t.auth.startswith("env:")}
        environ = {name: os.environ[name] for name in named if name in os.environ}
        request = {
            "op": "probe",
            "id": ident,
            "targets": [t.model_dump(mode="json") for t in targets],
            "options": options,
            "ca_pem": ca_pem,
            "deadline_in_s": left,
            "sent_at": time.time(),
            "environ": environ,
        }
        try:
            self._send(request)
            reply = await asyncio.wrap_future(answer)
        except asyncio.CancelledError:
            self.kill()
            raise
        finally:
            self._pending.pop(ident, None)
            self._id_tokens.pop(ident, None)
        if reply["op"] == "results":
            from infradiag.evidence.model import ProbeResult

            return [ProbeResult.model_validate(r) for r in reply["results"]]
        if "usage" in reply:
            raise UsageError(*reply["usage"])
        if "value" in reply:
            raise ValueError(reply["value"])
        raise ProbeProcessGone(f"the probe process failed: {reply['crash']}")

    def _send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        try:
            with self._lock:
                self._stdin.write(line)
                self._stdin.flush()
        except (OSError, ValueError) as error:  # ValueError: the pipe was closed here
            raise ProbeProcessGone(f"the probe process is gone ({error})") from None

    def _read(self, out: IO[bytes]) -> None:
        for line in out:
            try:
                message = json.loads(line)
                op = message["op"]
            except (ValueError, KeyError, TypeError):
                continue  # not a message of the protocol: nothing to act on

            if op == "ready":
                self.child_pid = message["pid"]
            elif op == "token":
                threading.Thread(target=self._mint, args=(message,), name="id-token", daemon=True).start()
            elif (waiting := self._pending.get(message["id"])) is not None:
                waiting.set_result(message)
        code = self._child.wait()
        for waiting in list(self._pending.values()):
            if not waiting.done():
                waiting.set_exception(ProbeProcessGone(f"the probe process ended (exit status {code})"))

    def _mint(self, message: dict[str, Any]) -> None:
        fetch = self._id_tokens.get(message["id"])
        reply: dict[str, Any] = {"op": "token", "key": message["key"]}
        try:
            if fetch is None:
                from infradiag.identity import Authenticator

                fetch = Authenticator().id_token
            reply["token"] = fetch(message["audience"], message["timeout_s"])
        except Exception as error:  # the child reports it as the probe's missing token, as in-process
            reply["error"] = str(error) or type(error).__name__
        try:
            self._send(reply)
        except ProbeProcessGone:
            return  # nobody waits for this token any more


_lock = threading.Lock()
_current: ProbeProcess | None = None


def prestart() -> None:
    """Start the probe process now, in the background, if none is running: its start-up then overlaps
    whatever this process does before its first probes. Does nothing where no child can be started."""
    try:
        _running()
    except ProbeProcessGone:
        return


def _running() -> ProbeProcess:
    global _current
    with _lock:
        if _current is None or not _current.alive():
            try:
                _current = ProbeProcess()
            except OSError as error:
                raise ProbeProcessGone(f"cannot start the probe process: {error}") from None
        return _current


async def probe_in_child(
    targets: list[ProbeTarget],
    options: dict[str, Any],
    ca_pem: str | None,
    deadline: float | None,
    id_token: IdToken | None,
) -> list[ProbeResult]:
    """As ProbeProcess.probe, on the running probe process (started now if there is none)."""
    return await _running().probe(targets, options, ca_pem, deadline, id_token)


@atexit.register
def _close() -> None:
    if _current is not None:
        _current.close()


def child_pid() -> int | None:
    """The pid of the running probe process, once it reported ready; None if there is none."""
    current = _current
    return current.child_pid if current is not None and current.alive() else None
