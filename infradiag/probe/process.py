"""The triage's end of the probe process (infradiag/probe/worker.py): probes sent and timed in a child.

The child is kept and killed as infradiag/child_process.py says. Where no child can be started (no
interpreter to run), probes run in this process (infradiag/probe/dispatch.py).

ID tokens for private services are minted here, with the run's credentials, when the child asks for them.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from infradiag.child_process import ChildGone, ChildProcess, Kept, wall_deadline
from infradiag.errors import UsageError

if TYPE_CHECKING:  # loaded when a probe is asked for: prestart() must cost next to nothing
    from infradiag.evidence.model import ProbeResult, ProbeTarget

IdToken = Callable[[str, float], str]


class ProbeProcessGone(ChildGone):
    """The child ended (or could not start) before it answered."""


class ProbeProcess(ChildProcess):
    """One running probe process (JSON lines: infradiag/probe/worker.py)."""

    module = "infradiag.probe.worker"
    what = "the probe process"
    gone = ProbeProcessGone

    def __init__(self) -> None:
        """Start the child at once (ChildProcess)."""
        self._id_tokens: dict[int, IdToken | None] = {}
        super().__init__()

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

        ident, answer = self.new_request()
        self._id_tokens[ident] = id_token
        # `env:VAR` tokens as this process sees them now: the child's environment is a copy from its start.
        named = {t.auth.removeprefix("env:") for t in targets if t.auth and t.auth.startswith("env:")}
        environ = {name: os.environ[name] for name in named if name in os.environ}
        request = {
            "op": "probe",
            "id": ident,
            "targets": [t.model_dump(mode="json") for t in targets],
            "options": options,
            "ca_pem": ca_pem,
            "deadline_at": wall_deadline(deadline),
            "environ": environ,
        }
        try:
            self._send(request)
            reply = await asyncio.wrap_future(answer)
        except asyncio.CancelledError:
            self.kill()
            raise
        finally:
            self.pending.pop(ident, None)
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
        self.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def messages(self, out: IO[bytes]) -> Iterator[dict[str, Any]]:
        """The child's JSON lines; anything else on its stdout is not a message of the protocol."""
        for line in out:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and "op" in message:
                yield message

    def on_message(self, message: dict[str, Any]) -> None:
        """Ready, an ID token asked for (minted on a thread of its own), or an answer naming its request."""
        op = message["op"]
        if op == "ready":
            self.child_pid = message["pid"]
        elif op == "token":
            threading.Thread(target=self._mint, args=(message,), name="id-token", daemon=True).start()
        elif "id" in message:
            self.answer(message["id"], message)

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


_kept = Kept(ProbeProcess)
atexit.register(_kept.close)


def prestart() -> None:
    """Start the probe process now, in the background, if none is running: its start-up then overlaps
    whatever this process does before its first probes. Does nothing where no child can be started."""
    _kept.prestart()


async def probe_in_child(
    targets: list[ProbeTarget],
    options: dict[str, Any],
    ca_pem: str | None,
    deadline: float | None,
    id_token: IdToken | None,
) -> list[ProbeResult]:
    """As ProbeProcess.probe, on the running probe process (started now if there is none)."""
    return await _kept.running().probe(targets, options, ca_pem, deadline, id_token)


def child_pid() -> int | None:
    """The pid of the running probe process, once it reported ready; None if there is none."""
    return _kept.child_pid()
