"""Credentials for probes of private services: a Google-signed ID token, or a bearer token from a variable.

Tokens live in memory for one probe run and nowhere else. They go only into the Authorization header of
requests to the service's own origin (a redirect to another origin is never followed), are never logged, and
every text a probe records is scrubbed of them (`secrets`), even if a server echoes one back.

A private Cloud Run service takes a Google-signed ID token whose audience is the service URL
(https://cloud.google.com/run/docs/authenticating/service-to-service); the run's credentials mint it
(`infradiag.identity.Authenticator.id_token`): the configured key file, the impersonated service account
(IAM Credentials generateIdToken), else a service account key in GOOGLE_APPLICATION_CREDENTIALS or the
metadata server, never user credentials.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from infradiag.errors import UsageError
from infradiag.evidence.model import ProbeTarget
from infradiag.identity import Authenticator
from infradiag.probe.text import redact

T = TypeVar("T")
ID_TOKEN_FIX = (
    "set GOOGLE_APPLICATION_CREDENTIALS to a service account key (or an impersonated service account "
    "credentials file), or run where the metadata server is; that account needs roles/run.invoker"
)


class Credentials:
    """The Authorization header for each target; ID tokens fetched once per audience, in the background."""

    def __init__(
        self,
        targets: Iterable[ProbeTarget],
        fetch: Callable[[str, float], str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Read every `env:VAR` token now, from `environ` (default: os.environ): a missing or malformed one
        is a UsageError before any probe. `fetch(audience, timeout_s)` mints an ID token (default: as
        google-auth finds credentials)."""
        self._fetch = fetch or Authenticator().id_token
        self._environ = os.environ if environ is None else environ
        self._static: dict[str, str] = {}
        self._id_tokens: dict[str, asyncio.Future[str]] = {}
        self.secrets: set[str] = set()
        for target in targets:
            if target.auth and target.auth.startswith("env:") and target.auth not in self._static:
                self._static[target.auth] = self._from_environment(target.auth.removeprefix("env:"))

    def _from_environment(self, variable: str) -> str:
        token = self._environ.get(variable, "").strip()
        where = f'auth = "env:{variable}"'
        if not token:
            raise UsageError(
                where, f"environment variable {variable} is not set", f"export {variable}=TOKEN first"
            )
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        # A header value must be visible ASCII; the value itself is never echoed, not even here.
        if not token or any(not 0x21 <= ord(char) <= 0x7E for char in token):
            raise UsageError(
                where,
                f"environment variable {variable} holds spaces or control characters, not a bearer token",
                f"put only the token in {variable}",
            )
        self.secrets.add(token)
        return f"Bearer {token}"

    async def authorization(self, target: ProbeTarget, timeout_s: float) -> tuple[str | None, str | None]:
        """(Authorization header value, None), or (None, why the probe goes without one); (None, None) for
        a target without `auth`. Waits at most `timeout_s` for an ID token."""
        if not target.auth:
            return None, None
        if target.auth in self._static:
            return self._static[target.auth], None
        audience = target.audience or target.url
        if audience not in self._id_tokens:
            self._id_tokens[audience] = _in_daemon_thread(lambda: self._fetch(audience, timeout_s))
        try:
            async with asyncio.timeout(timeout_s):
                token = await asyncio.shield(self._id_tokens[audience])
        except TimeoutError:
            return None, f"no ID token within {timeout_s:.1f} s"
        except Exception as exc:
            # google-auth's messages name the missing credentials; redacted in case one quotes a response.
            return None, f"no ID token: {redact(str(exc) or type(exc).__name__)} (fix: {ID_TOKEN_FIX})"
        self.secrets.add(token)
        return f"Bearer {token}", None


def _in_daemon_thread(fn: Callable[[], T]) -> asyncio.Future[T]:
    """fn() on a daemon thread: a blocking fetch that outlives the run can never hold the process open."""
    outcome: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            outcome.set_result(fn())
        except Exception as exc:
            outcome.set_exception(exc)

    threading.Thread(target=run, name="id-token", daemon=True).start()
    # asyncio drops the result quietly if the run's loop has closed by the time it comes.
    return asyncio.wrap_future(outcome)
