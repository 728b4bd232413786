"""`infradiag capture`: a triage's reads and probes, recorded as a scenario (docs/scenario-format.md, v1).

The reads are the triage's own (the Collector and the registry, through RecordingClients), in the triage's
order: services, then the probes, then the invoker policies of services that answered 401/403, with every
other read of the environment alongside. Nothing is diagnosed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infradiag.collect.capture_redact import redacted, redacted_notes
from infradiag.collect.capture_scenario import scenario_of
from infradiag.collect.capture_transport import Recording, RecordingClients
from infradiag.collect.collector import Collector
from infradiag.evidence import ProbeResult, Unknown
from infradiag.identity import AUTH_TIMEOUT_S, AuthFailed
from infradiag.probe import probe_services
from infradiag.target import Target


@dataclass
class Capture:
    """A capture: the scenario (redacted), and what it could not record, for the file's header."""

    scenario: dict[str, Any]
    # What was not recorded, one line each: failed reads whose failure the scenario cannot replay, probe
    # outcomes the endpoint format cannot express.
    notes: list[str] = field(default_factory=list)
    unknowns: list[Unknown] = field(default_factory=list)
    probes: list[ProbeResult] = field(default_factory=list)


async def capture(
    target: Target, name: str, deadline: float | None = None, redact_identities: bool = False
) -> Capture:
    """Make the triage's reads and probes of `target` and return them as a scenario named `name`, redacted:
    env values, tokens and keys always, IAM member emails with `redact_identities`. Raises AuthFailed when
    no credentials could be had (nothing was read)."""
    left = AUTH_TIMEOUT_S if deadline is None else min(AUTH_TIMEOUT_S, deadline - time.monotonic())
    auth = await asyncio.to_thread(target.auth.resolve, left)
    now = target.now or datetime.now(UTC).replace(microsecond=0)
    recording = Recording()
    collector = Collector(target, now, deadline, auth=auth)
    collector.clients = RecordingClients(target.endpoints, auth, recording)
    environment = asyncio.create_task(collector.environment())
    try:
        services = await collector.services()
        probes = await probe_services(services, target, deadline)
        await collector.invokers(services, probes)
        await environment
    finally:
        environment.cancel()
        collector.close()
    built = scenario_of(target, name, now, recording.exchanges(), probes, collector.unknowns())
    notes = redacted_notes(built.notes, built.scenario, redact_identities)
    return Capture(redacted(built.scenario, redact_identities), notes, collector.unknowns(), probes)


__all__ = ["AuthFailed", "Capture", "capture"]
