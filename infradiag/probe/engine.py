"""probe_all: every target probed once, concurrently, within a per-probe timeout and an overall deadline.

- No blind retries: a failure is evidence. With `confirm`, a failed probe is tried once more after a pause,
  and both observations are kept, so a flap (fails, then passes) can be told from an outage (fails twice).
- The overall deadline is an instant on time.monotonic(). Each probe gets min(timeout, time left); one cut
  short by the deadline is reported as a timeout that says so, and a probe that could not even start
  before the deadline is reported as such, so the caller always gets one result per target in time.
- Concurrency is bounded by a semaphore. Probes are I/O bound: each holds one socket and a body of at most
  `max_body_bytes`, and costs about half a millisecond of CPU. At 32 in flight a fleet of 200 services whose
  endpoints take 300 ms needs 7 waves (over 2 s); the default of 256 probes it in one wave, with a few hundred
  file descriptors (far below the usual limit of 1024) and a few MiB of buffers.
- Probes go direct: environment proxy settings are ignored, so a proxy's answer cannot hide the service's.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Iterable, Mapping

import httpx

from infradiag.config.model import ProbeSettings
from infradiag.evidence.model import ProbePhases, ProbeResult, ProbeTarget
from infradiag.probe.auth import Credentials
from infradiag.probe.checks import Checks
from infradiag.probe.http import Attempt, Limits, probe_once
from infradiag.probe.network import ProbeTransport
from infradiag.probe.text import duration, scrub
from infradiag.probe.tls import verifies

# The defaults of an environment's probe settings are the engine's own.
_DEFAULTS = ProbeSettings()
# Long enough for a load balancer to route the second attempt elsewhere, short next to a triage.
CONFIRM_PAUSE_S = 1.0


async def probe_all(
    targets: list[ProbeTarget],
    *,
    timeout_s: float = _DEFAULTS.probe_timeout_s,
    concurrency: int = _DEFAULTS.probe_concurrency,
    verify: bool | ssl.SSLContext = True,
    max_body_bytes: int = _DEFAULTS.probe_max_body_bytes,
    max_redirects: int = _DEFAULTS.probe_max_redirects,
    deadline: float | None = None,
    confirm: bool = _DEFAULTS.probe_confirm,
    confirm_pause_s: float = CONFIRM_PAUSE_S,
    id_token: Callable[[str, float], str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[ProbeResult]:
    """One result per target, in target order, each within min(`timeout_s`, time left before `deadline`).

    Whatever a probe sees (refusal, reset, timeout, TLS or DNS failure, any status, failed checks) becomes its
    result. Only invalid arguments raise, before anything is sent: ValueError for a target that is not an
    absolute http(s) URL or has an invalid check; UsageError for an `env:VAR` token that is not set in
    `environ` (default: os.environ).
    """
    checks = _check_arguments(targets, concurrency)
    credentials = Credentials(targets, id_token, environ)
    limits = Limits(timeout_s, max_body_bytes, max_redirects, verifies(verify))
    gate = asyncio.Semaphore(concurrency)
    # Loading the trust store takes tens of milliseconds: once per run, and only if something is https
    # (redirects are followed within the same origin, so an http target never turns https).
    https = any(t.url.lower().startswith("https:") for t in targets)
    tls_context = httpx.create_ssl_context(verify=verify if https else False, trust_env=False)
    # One transport for every probe: it keeps no connection, each request opens and closes its own.
    transport = ProbeTransport(tls_context)

    async def attempt(target: ProbeTarget, target_checks: Checks) -> ProbeResult:
        async with gate:
            budget, cut = _budget(timeout_s, deadline)
            if budget <= 0:
                return _not_started(target)
            authorization, note = await credentials.authorization(target, budget)
            budget, cut = _budget(timeout_s, deadline)
            return await probe_once(
                transport, target, target_checks, limits, Attempt(budget, cut, authorization, note)
            )

    async def one(target: ProbeTarget, target_checks: Checks) -> ProbeResult:
        first = await attempt(target, target_checks)
        if not confirm or first.ok:
            return first
        if deadline is not None and deadline - time.monotonic() < confirm_pause_s + 0.1:
            note = f"{first.detail}; not confirmed: the deadline is near"
            return first.model_copy(update={"detail": note})
        await asyncio.sleep(confirm_pause_s)
        return _confirmed(first, await attempt(target, target_checks), confirm_pause_s)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(t, c)) for t, c in zip(targets, checks, strict=True)]
    return [_scrubbed(task.result(), credentials.secrets) for task in tasks]


def _check_arguments(targets: list[ProbeTarget], concurrency: int) -> list[Checks]:
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    for target in targets:
        url = httpx.URL(target.url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"probe target {target.service}: {target.url!r} is not an absolute http(s) URL")
    # Compiling CEL is slow next to probing; a fleet usually shares a handful of distinct check sets.
    compiled: dict[tuple[object, ...], Checks] = {}
    for target in targets:
        key = _checks_key(target)
        if key not in compiled:
            compiled[key] = Checks.of(target)
    return [compiled[_checks_key(t)] for t in targets]


def _checks_key(target: ProbeTarget) -> tuple[object, ...]:
    headers = tuple(sorted(target.expect_headers.items()))
    return (target.expect_status, target.body_check, headers, target.latency_budget_ms)


def _budget(timeout_s: float, deadline: float | None) -> tuple[float, bool]:
    """Seconds this probe may take, and whether the deadline (rather than the timeout) set them."""
    if deadline is None:
        return timeout_s, False
    left = deadline - time.monotonic()
    return (left, True) if left < timeout_s else (timeout_s, False)


def _not_started(target: ProbeTarget) -> ProbeResult:
    return ProbeResult(
        service=target.service,
        path=target.path,
        url=target.url,
        ok=False,
        outcome="timeout",
        latency_ms=0.0,
        phases=ProbePhases(total=0.0),
        detail="not probed: the overall deadline passed before a probe slot was free",
        kind=target.kind,
    )


def _confirmed(first: ProbeResult, second: ProbeResult, pause_s: float) -> ProbeResult:
    flapping = second.ok
    seen: str = "ok" if second.ok else second.outcome
    if second.status is not None:
        seen += f" {second.status}"
    verdict = "a flap" if flapping else "the failure holds"
    note = f"again {pause_s:g} s later: {seen} after {duration(second.latency_ms)} ({verdict})"
    return first.model_copy(
        update={"confirmation": second, "flapping": flapping, "detail": f"{first.detail}; {note}"}
    )


def _scrubbed(result: ProbeResult, secrets: Iterable[str]) -> ProbeResult:
    """The result with every token the run sent removed from its texts (see auth.py)."""
    secrets = list(secrets)
    if not secrets:
        return result
    update: dict[str, object] = {
        "detail": scrub(result.detail, secrets),
        "failed_checks": [scrub(check, secrets) for check in result.failed_checks],
    }
    if result.body_excerpt is not None:
        update["body_excerpt"] = scrub(result.body_excerpt, secrets)
    if result.tls_error is not None:
        update["tls_error"] = scrub(result.tls_error, secrets)
    if result.confirmation is not None:
        update["confirmation"] = _scrubbed(result.confirmation, secrets)
    return result.model_copy(update=update)
