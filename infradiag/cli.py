"""The `infradiag` command. Heavy modules are imported inside commands so `--help` stays instant."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infradiag.errors import UsageError

if TYPE_CHECKING:
    from infradiag.report.model import TriageReport
    from infradiag.target import Target

app = typer.Typer(
    name="infradiag",
    help="Triage a GCP staging environment: probe, collect evidence, walk five whys, rank the fixes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
twin_app = typer.Typer(help="Run the local twin of a GCP project.", no_args_is_help=True)
app.add_typer(twin_app, name="twin")


class Format(StrEnum):
    terminal = "terminal"
    json = "json"


class Level(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default ./infradiag.toml).")
]


def parse_duration(text: str, flag: str) -> float:
    """Seconds in `90`, `90s`, `10m`, `1h`; a UsageError naming the flag otherwise."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?", text.strip())
    if not match:
        raise UsageError(flag, f"{text!r} is not a duration", "write e.g. 90s, 10m or 1h")
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    return float(match.group(1)) * unit


def exit_code(report: TriageReport, fail_on: str) -> int:
    """Exit code per triage-report.md: 3 unknown, 1 a finding at/above fail_on, else 0."""
    from infradiag.diagnose.findings import PRIORITY_ORDER

    if report.verdict == "unknown":
        return 3
    threshold = PRIORITY_ORDER[fail_on]
    return 1 if any(PRIORITY_ORDER[f.priority] <= threshold for f in report.findings) else 0


@contextmanager
def open_target(environment: str | None, scenario: Path | None, config: Path | None) -> Iterator[Target]:
    """The Target to triage; for a twin environment or --scenario, the twin runs until exit."""
    import dataclasses

    from infradiag.config import load_config
    from infradiag.target import ApiEndpoints, Target

    if scenario is None and environment is None:
        raise UsageError(
            "infradiag", "name an environment or pass --scenario FILE", "infradiag triage staging"
        )
    env_config = None
    if scenario is None:
        assert environment is not None
        env_config = load_config(config).environment(environment)
        scenario = env_config.twin
    name = environment or (scenario.stem if scenario else "twin")
    if scenario is None:
        assert env_config is not None and env_config.project and env_config.region
        target = Target(environment=name, project=env_config.project, region=env_config.region)
        twin = None
    else:
        from infradiag.twin.scenario import load_scenario
        from infradiag.twin.server import Twin

        loaded = load_scenario(scenario)
        twin = Twin(loaded)
        addresses = twin.start()
        target = Target(
            environment=name,
            project=loaded.project,
            region=loaded.region,
            endpoints=ApiEndpoints(rest=addresses.rest, grpc=addresses.grpc),
            now=loaded.now,
        )
    if env_config is not None:
        target = dataclasses.replace(
            target,
            services=env_config.services,
            health_path=env_config.health_path,
            probe_timeout_s=env_config.probe_timeout_s,
            probe_concurrency=env_config.probe_concurrency,
            thresholds=env_config.thresholds,
        )
    try:
        yield target
    finally:
        if twin is not None:
            twin.stop()


@app.command()
def triage(
    environment: Annotated[str | None, typer.Argument(help="Environment name from infradiag.toml.")] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="Triage a twin of this scenario file instead.")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.terminal,
    fail_on: Annotated[
        Level, typer.Option("--fail-on", help="Exit 1 at a finding of this priority or higher.")
    ] = Level.P1,
    deadline: Annotated[
        str, typer.Option(help="Overall deadline, e.g. 60s; exit 3 when it passes.")
    ] = "120s",
    playbooks: Annotated[
        Path | None, typer.Option(help="Playbook directory (default: the bundled one).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Diagnose an environment (or a scenario's twin) and print the ranked remediation plan."""
    import asyncio

    from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks
    from infradiag.triage import triage as run_triage

    seconds = parse_duration(deadline, "--deadline")
    books = load_playbooks(playbooks or PLAYBOOK_DIR)
    with open_target(environment, scenario, config) as target:
        try:
            report, _ = asyncio.run(asyncio.wait_for(run_triage(target, books), timeout=seconds))
        except TimeoutError:
            typer.echo(f"infradiag: the deadline of {deadline} passed before a verdict", err=True)
            raise typer.Exit(3) from None
    if output is Format.json:
        import json

        sys.stdout.write(json.dumps(report.to_json_dict(), indent=2) + "\n")
    else:
        from rich.console import Console

        from infradiag.report.terminal import render

        render(report, Console())
    raise typer.Exit(exit_code(report, fail_on.value))


@twin_app.command("serve")
def twin_serve(
    scenario: Annotated[Path, typer.Argument(help="Scenario file.")],
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Serve a scenario's twin on loopback until Ctrl-C or SIGTERM."""
    import json
    import signal
    import threading

    from infradiag.twin.scenario import load_scenario
    from infradiag.twin.server import Twin

    if output not in ("text", "json"):
        raise UsageError("--format", f"unknown format {output!r}", "use text or json")
    twin = Twin(load_scenario(scenario))
    addresses = twin.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if output == "json":
        print(json.dumps(addresses.as_json()), flush=True)
    else:
        print(f"twin of {addresses.project} ({addresses.region}) from {scenario}", flush=True)
        print(f"  REST (run, vpcaccess, compute, sql): {addresses.rest}", flush=True)
        print(f"  gRPC (monitoring):                   {addresses.grpc}", flush=True)
        for service, url in addresses.services.items():
            print(f"  service {service}: {url}", flush=True)
        print("Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        twin.stop()


def main() -> None:
    """Entry point: runs the app; bad input ends with one line on stderr and exit code 2."""
    try:
        app()
    except UsageError as error:
        print(f"infradiag: {error.one_line()}", file=sys.stderr)
        sys.exit(error.exit_code)
