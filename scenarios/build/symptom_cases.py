"""Writes the scenarios where a symptom must be cited under the root cause that explains it, not listed.

Run from the repository root: `python scenarios/build/symptom_cases.py` (rewrites scenarios/symptom-*.yaml).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fleet import CONNECTOR, SERVICES, Fleet, Scenarios, cause, expectation

SCENARIOS = Scenarios("scenarios/build/symptom_cases.py")
scenario = SCENARIOS.add
# A dependency that has gone away: the health check waits for it, then gives up.
SLOW_503 = {"status": 503, "delayMs": 5500, "json": {"status": "unhealthy", "database": "timeout after 5.5s"}}


def connector_down_slow(name: str, summary: str) -> Fleet:
    """The connector is in ERROR; every service scales to zero when idle and answers 503 after 5.5 s. Expects
    the connector's state as the P0 cause, and neither cold starts nor the apps themselves."""
    f = Fleet(name, summary)
    f.connectors[0]["state"] = "ERROR"
    for svc in f.services.values():
        svc["template"]["scaling"]["minInstanceCount"] = 0
    for load in f.run_load.values():
        load["latency_ms"] = 5500.0
    f.fail(SERVICES, SLOW_503)
    f.expect = expectation(
        "down",
        cause("vpc_connector.not_ready", "P0", CONNECTOR),
        absent=["run.cold_start", "app.dependency_failing", "app.error"],
    )
    return f


@scenario
def slow_while_warm() -> Fleet:
    f = connector_down_slow(
        "symptom-slow-503s-warm-instances",
        "Connector in ERROR: every service answers 503 after 5.5 s, on instances that were warm all along",
    )
    return f


@scenario
def cold_start_explained() -> Fleet:
    f = connector_down_slow(
        "symptom-cold-start-explained",
        "Connector in ERROR: services wait 9 s at start-up for a database they cannot reach",
    )
    for load in f.run_load.values():
        load["startup_ms"] = 9000.0
    return f


if __name__ == "__main__":
    SCENARIOS.main()
