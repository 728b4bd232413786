"""What a triage asks of the probes, without loading them: the probes' share of a deadline, and the
services' probes sent to the probe process (infradiag/probe/process.py).

The triage's process imports this module, not the probe engine: httpx, httpcore and the TLS evidence load in
the probe process only (about 0.3 s of CPU a cold start no longer spends in the process that lists the
services), and here only where no probe process can run.
"""

from __future__ import annotations

import ssl
import time
from typing import TYPE_CHECKING, Any

from infradiag.probe.process import ProbeProcessGone, probe_in_child
from infradiag.probe.targets import probe_targets

if TYPE_CHECKING:
    from infradiag.evidence.model import ProbeResult, ServiceEvidence
    from infradiag.target import Target


def probe_deadline(seconds: float) -> float:
    """The time.monotonic() instant by which probes must end for a run with an overall deadline of `seconds`
    starting now: a reserve (15 %, at most 2 s) is kept for diagnosis and the report after the probes."""
    return time.monotonic() + seconds - min(2.0, 0.15 * seconds)


async def probe_services(
    services: list[ServiceEvidence], target: Target, deadline: float | None = None
) -> list[ProbeResult]:
    """Every health URL of `services`, probed with the target's probe settings, ending by `deadline`.
    Certificates verify against the system's trust store plus the target's `extra_ca_pem`, if any.

    The probes run in the probe process (process.py), where no work of this process can stall the event loop
    that times them; only where that process cannot run do they run here."""
    settings = target.probe
    targets = probe_targets(services, target)
    options: dict[str, Any] = {
        "timeout_s": settings.probe_timeout_s,
        "concurrency": settings.probe_concurrency,
        "max_body_bytes": settings.probe_max_body_bytes,
        "max_redirects": settings.probe_max_redirects,
        "confirm": settings.probe_confirm,
    }
    try:
        return await probe_in_child(targets, options, target.extra_ca_pem, deadline, target.auth.id_token)
    except ProbeProcessGone:
        pass  # no child: the probes are still owed, here, within what is left of the deadline
    from infradiag.probe.engine import probe_all  # loads httpx: only where no probe process runs

    verify: bool | ssl.SSLContext = True
    if target.extra_ca_pem:
        # create_default_context loads the system's CAs first; cadata adds the twin's (PEM as str, not DER).
        verify = ssl.create_default_context(cadata=target.extra_ca_pem)
    return await probe_all(
        targets, verify=verify, deadline=deadline, id_token=target.auth.id_token, **options
    )
