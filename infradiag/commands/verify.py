"""`triage --verify-fixes`: each fix of a plan proven on a twin of the scenario, with the fix applied.

For each plan step, the API requests of its findings' typed fixes are applied to a copy of the scenario
(twin/whatif.py, with the capacity model of twin/whatif_capacity.py), a twin is started on the copy, and the
copy is triaged again with the same playbooks and settings. A finding whose id (its cause on its resource)
the re-triage no longer reports is cleared by its fix. Only the CLI layer starts twins: this module is a
command's helper, never a pipeline stage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from infradiag.report.model import ReportFinding, ReportVerification, TriageReport

if TYPE_CHECKING:
    from infradiag.diagnose.playbook import Playbook
    from infradiag.target import Target
    from infradiag.twin.scenario import Scenario
    from infradiag.twin.whatif import Request

NO_TWIN = (
    "no twin or captured scenario for this environment (capture it with `infradiag capture ENV -o FILE` "
    "and run `triage --scenario FILE --verify-fixes`)"
)
# Re-triages run at once, each on its own twin: two keep a small machine busy without starving the twins.
CONCURRENT_RETRIAGES = 2


def unproven(why: str) -> ReportVerification:
    """The verification of a fix that cannot be proven, and why."""
    return ReportVerification(result="unproven", detail=f"cannot be proven: {why}")


def _request_of(finding: ReportFinding) -> Request | None:
    from infradiag.twin.whatif import Request

    request = finding.remediation.request
    if request is None:
        return None
    return Request(request.api, request.method, request.resource, request.body, request.update_mask)


@contextmanager
def twin_target(scenario: Scenario, base: Target) -> Iterator[Target]:
    """`base` pointed at a twin of `scenario`, started here and stopped on exit, with its credentials as
    `open_target` (commands/common.py) gives them for `--scenario`; the base's services, thresholds and
    probe settings kept."""
    from infradiag.commands.common import twin_of
    from infradiag.target import ApiEndpoints

    with twin_of(scenario, None, base.auth.impersonate) as (addresses, auth):
        yield dataclasses.replace(
            base,
            endpoints=ApiEndpoints(rest=addresses.rest, grpc=addresses.grpc),
            now=scenario.now,
            auth=auth,
            extra_ca_pem=addresses.ca_pem or None,
        )


def rejected_by_google(scenario: Scenario) -> str | None:
    """What Google's client would reject in the changed scenario (a value the request set that its API
    does not take), or None."""
    from infradiag.twin.resource_check import ResourceProblem, check_resources

    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    try:
        check_resources(data, scenario.project, scenario.projectNumber, scenario.now)
    except ResourceProblem as problem:
        return f"{'.'.join(str(p) for p in problem.loc)}: {problem.problem}"
    return None


async def _retriage(
    scenario: Scenario, base: Target, books: list[Playbook], seconds: float
) -> TriageReport | str:
    """The report of a triage of a twin of `scenario`, or why there is none."""
    import time

    from infradiag import runtime
    from infradiag.triage import triage

    def run() -> TriageReport | str:
        try:
            with twin_target(scenario, base) as target:
                report, _ = runtime.run(
                    runtime.within(triage(target, books, time.monotonic() + seconds), seconds)
                )
        except TimeoutError:
            return f"the re-triage did not finish within {seconds:.0f} s"
        except Exception as failure:  # reported as the step's verdict: one broken fix spares the others
            return f"the re-triage of the changed scenario failed: {type(failure).__name__}: {failure}"
        return report

    # Each re-triage on a thread of its own with its own event loop: the twins' threads and the collector's
    # clients never share a loop between two re-triages.
    return await asyncio.to_thread(run)


def _still_found(original: ReportFinding, again: ReportFinding) -> str:
    answer = again.why[-1].answer if again.why else again.title
    return f"does not clear {original.cause}: the re-triage still finds {again.title} ({answer})"


async def _verify_step(
    findings: list[ReportFinding],
    scenario: Scenario,
    base: Target,
    books: list[Playbook],
    seconds: float,
    original: TriageReport,
) -> dict[str, ReportVerification]:
    from infradiag.twin.whatif import Applied, apply_request

    verdicts: dict[str, ReportVerification] = {}
    typed = []
    for finding in findings:
        request = _request_of(finding)
        if request is None:
            verdicts[finding.id] = unproven(
                f"not a typed change: a manual step the twin cannot apply ({finding.remediation.summary})"
            )
        elif not request.body:
            verdicts[finding.id] = unproven("the fix changes nothing the API can apply")
        else:
            typed.append((finding, request))
    if not typed:
        return verdicts
    changed, notes = scenario, list[str]()
    # Findings of one step share its action: their requests are usually one, applied once.
    distinct = {json.dumps(dataclasses.asdict(r), sort_keys=True): r for _, r in typed}
    for request in distinct.values():
        applied = apply_request(changed, request)
        if not isinstance(applied, Applied):
            for finding, _ in typed:
                verdicts[finding.id] = unproven(f"{request.api} {request.method}: {applied.why}")
            return verdicts
        changed, notes = applied.scenario, notes + applied.notes
    rejected = rejected_by_google(changed)
    report = await _retriage(changed, base, books, seconds) if rejected is None else None
    before = {(u.source, u.reason) for u in original.unknowns}
    for finding, _ in typed:
        if rejected is not None:
            verdicts[finding.id] = ReportVerification(
                result="does_not_clear",
                detail=f"does not clear {finding.cause}: Google would reject the request ({rejected})",
            )
        elif isinstance(report, str) or report is None:
            verdicts[finding.id] = unproven(report or "no re-triage")
        elif (missing := [u for u in report.unknowns if (u.source, u.reason) not in before]) != []:
            verdicts[finding.id] = unproven(
                f"the re-triage could not read {', '.join(f'{u.source} ({u.reason})' for u in missing)}"
            )
        elif (again := next((f for f in report.findings if f.id == finding.id), None)) is not None:
            verdicts[finding.id] = ReportVerification(
                result="does_not_clear", detail=_still_found(finding, again)
            )
        else:
            how = f" ({'; '.join(dict.fromkeys(notes))})" if notes else ""
            verdicts[finding.id] = ReportVerification(
                result="clears", detail=f"clears {finding.cause} on {', '.join(finding.resources)}{how}"
            )
    return verdicts


async def verify_plan(
    report: TriageReport,
    scenario: Scenario,
    base: Target,
    books: list[Playbook],
    seconds: float,
    priorities: Collection[str] | None = None,
) -> dict[str, ReportVerification]:
    """Per finding id of `report`, whether its fix clears it on a twin of `scenario` with the fix applied:
    the steps of the plan (those of `priorities` only, when given) verified CONCURRENT_RETRIAGES at a time,
    each re-triage within `seconds`."""
    by_id = {f.id: f for f in report.findings}
    gate = asyncio.Semaphore(CONCURRENT_RETRIAGES)

    async def one(step_findings: list[ReportFinding]) -> dict[str, ReportVerification]:
        async with gate:
            return await _verify_step(step_findings, scenario, base, books, seconds, report)

    results = await asyncio.gather(
        *(
            one([by_id[i] for i in step.findings if i in by_id])
            for step in report.plan
            if priorities is None or step.priority in priorities
        )
    )
    verdicts: dict[str, ReportVerification] = {}
    for result in results:
        verdicts |= result
    return verdicts


def scenario_of(environment: str | None, scenario: Path | None, config: Path | None) -> Scenario | None:
    """The scenario a triage read: `--scenario`, else the environment's `twin` in the config; None for a
    real environment (or a running twin elsewhere), which has no scenario to apply a fix to."""
    from infradiag.twin.scenario import load_scenario

    if scenario is None and environment is not None:
        from infradiag.config import load_config

        scenario = load_config(config).environment(environment).twin
    return None if scenario is None else load_scenario(scenario)


def verify_report(
    report: TriageReport,
    scenario: Scenario | None,
    base: Target,
    books: list[Playbook],
    seconds: float,
    priorities: Collection[str] | None = None,
) -> TriageReport:
    """`report` with every finding's `remediation.verification` (of the steps of `priorities` only, when
    given): proven on twins of `scenario` with its fix applied, or unproven (NO_TWIN) for every finding when
    there is no scenario."""
    from infradiag import runtime
    from infradiag.report.build import with_verifications

    if scenario is None:
        return with_verifications(report, {f.id: unproven(NO_TWIN) for f in report.findings})
    verdicts = runtime.run(verify_plan(report, scenario, base, books, seconds, priorities))
    return with_verifications(report, verdicts)
