"""Evidence gathered from a twin of a scenario, through the same pipeline code as a triage."""

from __future__ import annotations

from infradiag import runtime
from infradiag.config.model import ProbeSettings
from infradiag.evidence import Evidence
from infradiag.target import ApiEndpoints, Target
from infradiag.triage import gather_evidence
from infradiag.twin.scenario import Scenario
from infradiag.twin.server import Twin


def gather(scenario: Scenario) -> tuple[Evidence, Twin]:
    """The evidence of one gathering (probes and API reads), and the twin that served it (its log)."""
    with Twin(scenario) as twin:
        assert twin.addresses is not None
        target = Target(
            environment="test",
            project=scenario.project,
            region=scenario.region,
            endpoints=ApiEndpoints(rest=twin.addresses.rest, grpc=twin.addresses.grpc),
            now=scenario.now,
            probe=ProbeSettings(probe_timeout_s=5),
        )
        evidence = runtime.run(gather_evidence(target, scenario.now))
    return evidence, twin
