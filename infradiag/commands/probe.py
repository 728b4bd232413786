"""`infradiag probe`: every service's health endpoints, probed once; just the probe table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from infradiag.commands.common import (
    ConfigOption,
    ConfirmOption,
    EnvironmentArgument,
    Format,
    ImpersonateOption,
    ScenarioOption,
    confirming,
    format_option,
    open_target,
    parse_duration,
)

if TYPE_CHECKING:
    from infradiag.evidence.model import ProbeResult, Unknown
    from infradiag.target import Target


def probe(
    environment: EnvironmentArgument = None,
    scenario: ScenarioOption = None,
    output: Annotated[
        Format,
        format_option(
            Format.terminal, Format.json, help="Output format on stdout (json: nothing else there)"
        ),
    ] = Format.terminal,
    deadline: Annotated[
        str, typer.Option(help="Overall deadline, e.g. 30s; probes still running then are cut and reported.")
    ] = "60s",
    confirm: ConfirmOption = False,
    config: ConfigOption = None,
    impersonate: ImpersonateOption = None,
) -> None:
    """Probe every service's health endpoints and print the probe table.

    Exit 0 when every probe passes, 1 when one fails, 2 on bad usage, 3 when nothing could be probed.
    """
    import json
    import sys
    import time
    from datetime import UTC, datetime

    from rich.console import Console

    from infradiag import runtime
    from infradiag.probe.dispatch import probe_deadline
    from infradiag.probe.view import probe_report, render_probes
    from infradiag.report.literal import literal

    runtime.collect_cycles_only_when_idle()
    seconds = parse_duration(deadline, "--deadline")
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    with open_target(environment, scenario, config, impersonate) as target:
        target = confirming(target, confirm)
        run = _probe_environment(target, probe_deadline(seconds))
        try:
            probes, unknowns = runtime.run(runtime.within(run, seconds))
        except TimeoutError:
            typer.echo(
                f"infradiag: the deadline of {deadline} passed before the services were listed", err=True
            )
            raise typer.Exit(3) from None
    if output is Format.json:
        report = probe_report(
            environment=target.environment,
            project=target.project,
            region=target.region,
            started_at=started_at,
            duration_ms=int((time.perf_counter() - clock) * 1000),
            probes=probes,
            unknowns=unknowns,
        )
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        console = Console()
        render_probes(
            probes, console, title=f"Probes of {target.environment} ({target.project}, {target.region})"
        )
        for unknown in unknowns:
            line = f"could not check: {unknown.consequence} ({unknown.reason}; fix: {unknown.fix})"
            console.print(literal(line))
    if not probes:
        raise typer.Exit(3)
    raise typer.Exit(0 if all(p.ok for p in probes) else 1)


async def _probe_environment(target: Target, deadline: float) -> tuple[list[ProbeResult], list[Unknown]]:
    """List the services (one read-only API call, as the triage lists them), then probe them."""
    from datetime import UTC, datetime

    from infradiag.collect.collector import Collector
    from infradiag.identity import AuthFailed
    from infradiag.probe import probe_services
    from infradiag.triage import authenticate

    try:
        auth = await authenticate(target, deadline)
    except AuthFailed as failed:
        return [], [failed.unknown]
    # The listing ends by the deadline, as in the triage: the collector bounds each read by the time left.
    collector = Collector(target, target.now or datetime.now(UTC), deadline=deadline, auth=auth)
    try:
        services = await collector.services()
    finally:
        collector.close()
    return await probe_services(services, target, deadline), collector.unknowns()
