"""`infradiag gate`: is the environment fit to test? One answer and an exit code, optionally after waiting.

Exit codes (docs/report-format.md), judged on the last triage that reached a verdict:

- 0: no finding at or above `--fail-on` (suppressed findings never count).
- 1: a finding at or above `--fail-on`: at once without `--wait`; with `--wait`, still so when the deadline
  passed ("timed out waiting for ENV to be healthy").
- 3: could not judge: the last verdict was `unknown` or missed evidence (an unknown: a read refused,
  unreachable or cut by the deadline), or no triage reached a verdict before the deadline.

With `--wait`, the wait is the one overall deadline: a triage starts every `--interval` (at once when the
previous one took longer), each bounded by `--deadline` and by the time left, and no triage starts after the
deadline, so the gate ends within one interval of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from infradiag.commands.common import (
    ConfigOption,
    EnvironmentArgument,
    Format,
    ImpersonateOption,
    JunitOption,
    Level,
    PlaybooksOption,
    QuietOption,
    ScenarioOption,
    SuppressionsOption,
    accepted_findings,
    exit_code,
    format_option,
    open_target,
    parse_duration,
)
from infradiag.errors import UsageError

if TYPE_CHECKING:
    from infradiag.diagnose.playbook import Playbook
    from infradiag.report.model import TriageReport
    from infradiag.report.progress import Status
    from infradiag.suppress import Suppression
    from infradiag.target import Target

# How often the live progress bar moves while the gate sleeps between triages.
_TICK_S = 0.25


@dataclass(frozen=True)
class Policy:
    """When the gate passes and how long it keeps asking."""

    fail_on: str
    wait_s: float  # 0: judge once
    interval_s: float
    attempt_s: float  # bound on one triage


@dataclass
class Judgement:
    """The gate's answer: the last report that reached a verdict (if any) and the exit code."""

    report: TriageReport | None
    code: int
    problem: str = ""  # why the gate did not pass, for stderr and JUnit


def _summary(report: TriageReport, fail_on: str) -> str:
    from infradiag.priority import PRIORITY_ORDER

    blocking = [
        f
        for f in report.findings
        if f.suppressed is None and PRIORITY_ORDER[f.priority] <= PRIORITY_ORDER[fail_on]
    ]
    if not blocking:
        missing = f"; could not check: {', '.join(sorted({u.source for u in report.unknowns}))}"
        return f"{report.verdict}, no finding at or above {fail_on}{missing if report.unknowns else ''}"
    worst = blocking[0]
    return (
        f"{report.verdict}, {len(blocking)} finding(s) at or above {fail_on}: {worst.priority} {worst.title}"
    )


def standing_report(previous: TriageReport | None, latest: TriageReport, cut_short: bool) -> TriageReport:
    """The report the gate's verdict rests on after an attempt: the latest, unless the end of the wait cut it
    short (`cut_short`) and it could not judge, when what it could not read says nothing about the
    environment and the previous verdict (if any) stands."""
    if cut_short and latest.verdict == "unknown" and previous is not None:
        return previous
    return latest


async def judge(
    target: Target,
    books: list[Playbook],
    accepted: list[Suppression],
    policy: Policy,
    status: Status,
    start: float,
) -> Judgement:
    """Triage `target` until it passes, or once without a wait, or until `start` + the wait (monotonic)."""
    import asyncio

    from infradiag import runtime
    from infradiag.probe.dispatch import probe_deadline
    from infradiag.suppress import apply_suppressions
    from infradiag.triage import triage

    waiting = policy.wait_s > 0
    end = start + policy.wait_s
    name = target.environment
    bar = status.task(f"gate {name}: attempt 1", total=policy.wait_s if waiting else None)

    async def tick() -> None:
        while True:
            status.update(bar, completed=min(time.monotonic() - start, policy.wait_s))
            await asyncio.sleep(_TICK_S)

    ticker = asyncio.create_task(tick()) if waiting else None
    last: TriageReport | None = None
    last_code = 3
    attempt = 0
    try:
        while True:
            attempt += 1
            began = time.monotonic()
            budget = min(policy.attempt_s, end - began) if waiting else policy.attempt_s
            status.update(bar, description=f"gate {name}: attempt {attempt}, probing and collecting")
            try:
                # Probes end inside the budget, so a hung endpoint still leaves a verdict for this attempt.
                run = triage(target, books, probe_deadline(budget))
                report, _ = await runtime.within(run, budget)
            except TimeoutError:
                status.note(f"gate {name}: attempt {attempt}: no verdict within {budget:.0f} s")
                if not waiting:
                    problem = f"no verdict on {name} before the deadline of {policy.attempt_s:g} s"
                    return Judgement(last, 3, problem)
            else:
                judged = apply_suppressions(report, accepted, report.started_at.date())
                standing = standing_report(last, judged, cut_short=budget < policy.attempt_s)
                if standing is last:
                    status.note(f"gate {name}: attempt {attempt}: cut short by the end of the wait")
                else:
                    last = standing
                    last_code = exit_code(last, policy.fail_on)
                    status.note(f"gate {name}: attempt {attempt}: {_summary(last, policy.fail_on)}")
                if last_code == 0 or not waiting:
                    return Judgement(last, last_code, _summary(last, policy.fail_on))
            next_start = max(began + policy.interval_s, time.monotonic())
            if next_start >= end:
                verdict = _summary(last, policy.fail_on) if last is not None else "no verdict"
                problem = (
                    f"timed out waiting for {name} to be healthy: {attempt} attempt(s) in "
                    f"{time.monotonic() - start:.1f} s ({verdict})"
                )
                return Judgement(last, last_code if last is not None else 3, problem)
            left = next_start - time.monotonic()
            status.update(
                bar, description=f"gate {name}: attempt {attempt} failed, next in {max(left, 0):.0f} s"
            )
            runtime.collect_cycles_now()  # between attempts, where it delays nothing
            await asyncio.sleep(max(0.0, next_start - time.monotonic()))
    finally:
        if ticker is not None:
            ticker.cancel()
        status.done(bar)


def gate(
    environment: EnvironmentArgument = None,
    scenario: ScenarioOption = None,
    fail_on: Annotated[
        Level, typer.Option("--fail-on", help="Not fit to test at a finding of this priority or higher.")
    ] = Level.P1,
    wait: Annotated[
        str,
        typer.Option(
            help="Keep triaging until fit to test or this overall deadline passes, e.g. 10m (0: once)."
        ),
    ] = "0",
    interval: Annotated[str, typer.Option(help="Time between triage starts while waiting.")] = "20s",
    deadline: Annotated[
        str, typer.Option(help="Deadline of each triage; exit 3 without a verdict.")
    ] = "120s",
    output: Annotated[
        Format, format_option(*Format, help="Output format of the last report on stdout.")
    ] = Format.terminal,
    suppressions: SuppressionsOption = None,
    junit: JunitOption = None,
    playbooks: PlaybooksOption = None,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    impersonate: ImpersonateOption = None,
) -> None:
    """Is ENVIRONMENT fit to test? Exit 0 if so, 1 at a finding at or above --fail-on, 3 if it cannot tell."""
    # The wait counts from here: loading the libraries and starting a twin are part of what CI waits for.
    start = time.monotonic()
    from infradiag import runtime
    from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks
    from infradiag.report.junit import write_junit
    from infradiag.report.output import print_report
    from infradiag.report.progress import Status
    from infradiag.suppress.apply import expiry_warnings

    runtime.collect_cycles_only_when_idle()
    policy = Policy(
        fail_on=fail_on.value,
        wait_s=parse_duration(wait, "--wait", allow_zero=True),
        interval_s=parse_duration(interval, "--interval"),
        attempt_s=parse_duration(deadline, "--deadline"),
    )
    if policy.interval_s <= 0:
        raise UsageError("--interval", f"{interval!r} is not a positive duration", "write e.g. 20s")
    if policy.attempt_s <= 0:
        raise UsageError("--deadline", f"{deadline!r} is not a positive duration", "write e.g. 120s")
    books = load_playbooks(playbooks or PLAYBOOK_DIR)
    accepted = accepted_findings(environment, scenario, suppressions, config, books)
    with Status(quiet) as status, open_target(environment, scenario, config, impersonate) as target:
        result = runtime.run(judge(target, books, accepted, policy, status, start))
        name = target.environment
    if result.report is not None:
        for warning in expiry_warnings(result.report):
            status.warn(warning)
    if junit is not None:
        write_junit(junit, result.report, policy.fail_on, name, result.problem)
    if result.report is not None:
        print_report(result.report, output.value)
    if result.code == 0:
        status.note(f"gate {name}: fit to test ({result.problem})")
    else:
        status.error(f"gate {name}: not fit to test: {result.problem}")
    raise typer.Exit(result.code)
