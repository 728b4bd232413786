"""One sweep: triage each target concurrently, record each result in the history, compare with the last."""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from infradiag import runtime
from infradiag.diagnose.playbook import Playbook
from infradiag.history import HistoryLocation, HistoryStore, Recorded, SweepRecord, record_from_report
from infradiag.probe.dispatch import probe_deadline
from infradiag.report.model import TriageReport
from infradiag.suppress import Suppression, apply_suppressions
from infradiag.sweep.diff import SweepChange, compare
from infradiag.sweep.logline import log_line
from infradiag.sweep.partition import TaskShare
from infradiag.sweep.render import change_lines
from infradiag.target import Target
from infradiag.triage import triage


@dataclass(frozen=True)
class SweepSettings:
    deadline_s: float = 120.0  # per environment
    concurrency: int = 4  # environments triaged at once
    flap_window: int = 10  # sweeps looked back at for flapping services
    flap_changes: int = 3  # state changes in the window that make a service flap


@dataclass(frozen=True)
class EnvironmentSweep:
    """One environment's result: the record as committed and what changed since the last sweep."""

    record: SweepRecord
    change: SweepChange


async def sweep_targets(
    targets: Sequence[Target],
    playbooks: list[Playbook],
    location: HistoryLocation,
    judge: Callable[[TriageReport], int],
    settings: SweepSettings,
    accepted: Mapping[str, list[Suppression]] | None = None,
    task: TaskShare | None = None,
) -> list[EnvironmentSweep]:
    """Triage every target (at most `settings.concurrency` at once), mark the findings its environment
    accepts (`accepted`, by environment name), commit each result in its own transaction as soon as it is
    ready, and return them in the order of `targets`. `judge` gives a report's exit code. A target that
    passes its deadline or fails is recorded without a verdict. Each result is committed with its change
    lines and log line (as `task` writes it) as an undelivered notification: sweep.delivery writes it out,
    and publishes the history afterwards."""
    share = task or TaskShare(index=0, count=1)
    gate = asyncio.Semaphore(max(settings.concurrency, 1))

    async def one(target: Target) -> EnvironmentSweep:
        async with gate:
            suppressions = (accepted or {}).get(target.environment, [])
            record = await _triage_record(target, playbooks, suppressions, judge, settings.deadline_s)
        return await asyncio.to_thread(_commit, location, record, settings, share)

    return list(await asyncio.gather(*(one(t) for t in targets)))


async def _triage_record(
    target: Target,
    playbooks: list[Playbook],
    suppressions: list[Suppression],
    judge: Callable[[TriageReport], int],
    deadline_s: float,
) -> SweepRecord:
    started = datetime.now(UTC)
    clock = time.perf_counter()
    try:
        # Probes end before the deadline (cut ones count as timeouts): a slow environment still gets a report.
        run = triage(target, playbooks, probe_deadline(deadline_s))
        report, _ = await runtime.within(run, deadline_s)
        report = apply_suppressions(report, suppressions, report.started_at.date())
    except TimeoutError:
        error = f"the deadline of {deadline_s:g}s passed before a verdict"
    except Exception as exc:  # one environment's failure must not stop the sweep of the others
        traceback.print_exc(file=sys.stderr)
        error = f"triage failed: {type(exc).__name__}: {exc}"
    else:
        return record_from_report(report.to_json_dict(), judge(report))
    return SweepRecord(
        environment=target.environment,
        project=target.project,
        started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        duration_ms=int((time.perf_counter() - clock) * 1000),
        verdict="unknown",
        exit_code=3,
        error=error,
    )


def _commit(
    location: HistoryLocation, record: SweepRecord, settings: SweepSettings, task: TaskShare
) -> EnvironmentSweep:
    def change_of(recorded: Recorded) -> SweepChange:
        return compare(recorded.sweep, recorded.previous, recorded.recent, settings.flap_changes)

    def notification(recorded: Recorded) -> tuple[str, str]:
        change = change_of(recorded)
        return "\n".join(change_lines(recorded.sweep, change)), log_line(recorded.sweep, change, task)

    location.seed(record.environment)
    with HistoryStore(location.database(record.environment)) as store:
        recorded = store.record(
            record, recent=settings.flap_window, keep_days=location.keep_days, notify=notification
        )
    return EnvironmentSweep(record=recorded.sweep, change=change_of(recorded))
