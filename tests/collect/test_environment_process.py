"""The environment process (infradiag/collect/environment_process.py): the environment's reads made in a child
answer exactly what the same reads answer in this process, with this process's credentials (its token, never
a key), a cut run kills the child and the next run starts another, and a child that dies never costs the
reads."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from infradiag import runtime
from infradiag.collect import environment_process
from infradiag.collect.collector import Collector, EnvironmentEvidence, ReadLog
from infradiag.identity import Authenticator
from infradiag.target import ApiEndpoints, Target
from infradiag.twin.scenario import Scenario, load_scenario
from infradiag.twin.server import Twin
from tests.authtwin import no_real_google, write_scenario
from tests.conftest import SCENARIOS

# Connectors, subnets, Cloud SQL, firewalls and policies, NAT and Monitoring signals: most kinds of read, and
# reads composed from others (firewall policies per network, router status per NAT router).
RICH = ("staging-incident-full.yaml", "cause-vpc-nat-router-status-short.yaml", "missing-permissions.yaml")


def _target(twin: Twin, scenario: Scenario, auth: Authenticator | None = None) -> Target:
    assert twin.addresses is not None
    return Target(
        environment="test",
        project=scenario.project,
        region=scenario.region,
        endpoints=ApiEndpoints(rest=twin.addresses.rest, grpc=twin.addresses.grpc),
        now=scenario.now,
        auth=auth,  # type: ignore[arg-type]  # None: Target's own (anonymous at a twin)
    )


async def _not_here() -> EnvironmentEvidence:
    raise AssertionError("the environment was read in this process, not in the environment process")


def _read(target: Target, now: datetime, elsewhere: bool) -> tuple[EnvironmentEvidence, ReadLog]:
    async def main() -> tuple[EnvironmentEvidence, ReadLog]:
        auth = await asyncio.to_thread(target.auth.resolve)
        collector = Collector(target, now, time.monotonic() + 30, auth=auth)
        try:
            if elsewhere:
                # The reads must come from the child: its fallback here would give the same answer.
                collector.environment = _not_here  # type: ignore[method-assign]
                found = await environment_process.environment_elsewhere(collector)
            else:
                found = await collector.environment()
        finally:
            collector.close()
        return found, collector.read_log()

    return runtime.run(main())


@pytest.mark.parametrize("name", RICH)
def test_the_child_reads_what_this_process_would(name: str) -> None:
    scenario = load_scenario(SCENARIOS / name)
    with Twin(scenario) as twin:
        target = _target(twin, scenario)
        here = _read(target, scenario.now, elsewhere=False)
        there = _read(target, scenario.now, elsewhere=True)
    assert environment_process.child_pid() not in (None, os.getpid())
    found, log = there
    assert found == here[0]
    assert sorted(u.model_dump_json() for u in log.unknowns) == sorted(
        u.model_dump_json() for u in here[1].unknowns
    )
    assert (log.answered, log.failed) == (here[1].answered, here[1].failed)
    assert found.found  # something was read at all: the comparison is not of two empty answers


@pytest.fixture
def credentials_twin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Twin, Scenario]]:
    """A twin that refuses a request without a token it issued, and no credentials of anyone's around."""
    no_real_google(monkeypatch, tmp_path / "home")
    scenario = load_scenario(write_scenario(tmp_path))
    with Twin(scenario) as twin:
        yield twin, scenario


def test_the_child_reads_with_this_process_token_and_never_a_key(
    credentials_twin: tuple[Twin, Scenario], tmp_path: Path
) -> None:
    twin, scenario = credentials_twin
    key = twin.write_key_file(tmp_path / "key.json")
    found, log = _read(_target(twin, scenario, Authenticator(key_file=key)), scenario.now, elsewhere=True)
    assert environment_process.child_pid() not in (None, os.getpid())
    assert not log.unknowns, [u.detail for u in log.unknowns]  # a refused token would be one per API
    assert found.found and log.answered
    assert twin.auth is not None and twin.auth.issued() == 1  # one token, fetched here, sent by the child


def test_without_a_token_the_child_is_refused_as_this_process_is(
    credentials_twin: tuple[Twin, Scenario],
) -> None:
    twin, scenario = credentials_twin
    anonymous = _target(twin, scenario, Authenticator(anonymous=True))
    there = _read(anonymous, scenario.now, elsewhere=True)[1]
    here = _read(anonymous, scenario.now, elsewhere=False)[1]
    assert there.unknowns and {u.reason for u in there.unknowns} == {u.reason for u in here.unknowns}
    assert there.failed == here.failed


def _slow(seconds: float) -> Scenario:
    scenario = load_scenario(SCENARIOS / "staging-healthy.yaml")
    faults = [{"api": api, "delayMs": int(seconds * 1000)} for api in ("vpcaccess", "compute", "sql")]
    return Scenario.model_validate({**scenario.model_dump(mode="json", by_alias=True), "apiFaults": faults})


def test_a_cut_run_kills_the_child_and_the_next_run_starts_another() -> None:
    scenario = _slow(20)
    with Twin(scenario) as twin:
        target = _target(twin, scenario)
        environment_process.prestart()

        async def cut() -> None:
            collector = Collector(target, scenario.now, auth=None)
            await asyncio.wait_for(environment_process.environment_elsewhere(collector), timeout=3.0)

        with pytest.raises(TimeoutError):
            runtime.run(cut())
        assert environment_process.child_pid() is None  # killed, not left reading

    healthy = load_scenario(SCENARIOS / "staging-healthy.yaml")
    with Twin(healthy) as twin:
        found, _ = _read(_target(twin, healthy), healthy.now, elsewhere=True)
    assert found.found
    assert environment_process.child_pid() is not None


def test_a_child_that_dies_leaves_the_reads_to_this_process() -> None:
    scenario = _slow(2)
    with Twin(scenario) as twin:
        target = _target(twin, scenario)
        here = _read(target, scenario.now, elsewhere=False)

        async def main() -> EnvironmentEvidence:
            collector = Collector(target, scenario.now, time.monotonic() + 30, auth=None)
            reading = asyncio.ensure_future(environment_process.environment_elsewhere(collector))
            while environment_process.child_pid() is None:  # ready, and the request on its way
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            child = environment_process.child_pid()
            assert child is not None
            os.kill(child, signal.SIGKILL)
            return await reading

        found = runtime.run(main())
    assert found == here[0]


def test_credentials_that_cannot_give_a_token_leave_unknowns_not_a_crash() -> None:
    from google.auth.transport.requests import Request
    from google.oauth2.credentials import Credentials

    from infradiag.identity import Resolved

    scenario = load_scenario(SCENARIOS / "staging-healthy.yaml")
    # Expired, and nothing to refresh it with: every attempt to send it fails in google-auth.
    stale = Credentials(token=None)  # type: ignore[no-untyped-call]
    with Twin(scenario) as twin:
        target = _target(twin, scenario)

        async def main() -> tuple[EnvironmentEvidence, ReadLog]:
            auth = Resolved(stale, "", Request())
            collector = Collector(target, scenario.now, time.monotonic() + 30, auth=auth)
            try:
                found = await environment_process.environment_elsewhere(collector)
            finally:
                collector.close()
            return found, collector.read_log()

        found, log = runtime.run(main())
    assert not found.found and log.unknowns and not log.answered
    assert {u.source for u in log.unknowns} >= {"vpcaccess", "compute", "sql", "monitoring"}
