"""What several commands share: resolving an environment to a target, durations, exit codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from infradiag.errors import UsageError

if TYPE_CHECKING:
    from infradiag.diagnose.playbook import Playbook
    from infradiag.identity import Authenticator
    from infradiag.report.model import TriageReport
    from infradiag.suppress import Suppression
    from infradiag.target import Target
    from infradiag.twin.scenario import Scenario
    from infradiag.twin.server import TwinAddresses


class Format(StrEnum):
    """Every output format a command writes on stdout, named once; each command offers the ones it writes."""

    terminal = "terminal"
    json = "json"
    markdown = "markdown"


def format_option(*offered: Format, help: str) -> Any:
    """The `--format` option of a command that writes `offered`; any other value is a usage error (exit 2)."""
    names = [item.value for item in offered]

    def parse(text: str) -> Format:
        if text not in names:
            raise typer.BadParameter(f"{text!r} is not one of {', '.join(map(repr, names))}.")
        return Format(text)

    return typer.Option("--format", parser=parse, metavar=f"[{'|'.join(names)}]", help=help)


class Level(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default ./infradiag.toml).")
]
ScenarioOption = Annotated[Path | None, typer.Option(help="Use a twin of this scenario file instead.")]
EnvironmentArgument = Annotated[str | None, typer.Argument(help="Environment name from infradiag.toml.")]
SuppressionsOption = Annotated[
    Path | None,
    typer.Option(help="Accepted findings (YAML); default: the environment's `suppressions` in the config."),
]
JunitOption = Annotated[
    Path | None, typer.Option("--junit", help="Also write a JUnit XML report to this file.")
]
ImpersonateOption = Annotated[
    str | None,
    typer.Option(
        "--impersonate-service-account",
        metavar="EMAIL",
        help="Read the project as this service account (needs roles/iam.serviceAccountTokenCreator on it).",
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress or status on stderr; warnings and errors only.")
]
PlaybooksOption = Annotated[Path | None, typer.Option(help="Playbook directory (default: the bundled one).")]
DeadlineOption = Annotated[str, typer.Option(help="Overall deadline, e.g. 60s; exit 3 when it passes.")]
ConfirmOption = Annotated[
    bool,
    typer.Option(
        "--confirm", help="Probe each failure once more and keep both results: a flap or an outage."
    ),
]


def confirming(target: Target, confirm: bool) -> Target:
    """`target`, set to probe each failure once more when `confirm` (--confirm) asks it to."""
    if not confirm:
        return target
    import dataclasses

    return dataclasses.replace(target, probe=target.probe.model_copy(update={"probe_confirm": True}))


# Longer than any deadline or interval anyone means; larger numbers overflow the event loop's timers.
_LONGEST_S = 30 * 86400


def parse_duration(text: str, flag: str, allow_zero: bool = False) -> float:
    """Seconds in `90`, `90s`, `10m`, `1h`, more than zero (or zero with `allow_zero`) and at most 30 days;
    a UsageError naming the flag otherwise."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?", text.strip())
    if not match:
        raise UsageError(flag, f"{text!r} is not a duration", "write e.g. 90s, 10m or 1h")
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    seconds = float(match.group(1)) * unit
    if seconds == 0 and not allow_zero:
        raise UsageError(flag, f"{text!r} is not a positive duration", "write e.g. 90s, 10m or 1h")
    if seconds > _LONGEST_S:
        raise UsageError(flag, f"{text!r} is longer than 30 days", "write a shorter duration, e.g. 10m")
    return seconds


def exit_code(report: TriageReport, fail_on: str) -> int:
    """Exit code per the README's table: 3 unknown, else 1 at an unaccepted finding at or above `fail_on`
    or at a failing probe or a service without a URL that no accepted finding explains (a failing service
    never passes), else 3 while evidence is missing (an unknown: a refused or timed-out read, an API cut by
    the deadline), else 0."""
    from infradiag.diagnose.findings import PRIORITY_ORDER

    if report.verdict == "unknown":
        return 3
    threshold = PRIORITY_ORDER[fail_on]
    counted = [f for f in report.findings if f.suppressed is None]  # accepted findings never fail
    if any(PRIORITY_ORDER[f.priority] <= threshold for f in counted):
        return 1
    accepted = {s for f in report.findings if f.suppressed is not None for s in f.affected_services}
    if any(not p.ok and p.service not in accepted for p in report.probes):
        return 1
    # A service without a URL serves nothing: it fails as a failing probe does.
    if any(s not in accepted for s in report.services_without_url or []):
        return 1
    # What could not be read could hide a cause: such a run cannot tell that nothing stands.
    return 3 if report.unknowns else 0


@contextmanager
def open_target(
    environment: str | None, scenario: Path | None, config: Path | None, impersonate: str | None = None
) -> Iterator[Target]:
    """The Target to triage; for a twin environment or --scenario, the twin runs until exit. Its
    credentials: the config's `credentials` file, else ADC, impersonating `impersonate` (else the config's
    `impersonate_service_account`) if given; anonymous at a twin that does not require credentials, and at
    one that does, the key file it writes (unless the config names one)."""
    import dataclasses

    from infradiag.config import load_config
    from infradiag.identity import Authenticator
    from infradiag.target import ApiEndpoints, Target

    if impersonate is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", impersonate):
        raise UsageError(
            "--impersonate-service-account",
            f"{impersonate!r} is not a service account email",
            "write e.g. infradiag-reader@PROJECT.iam.gserviceaccount.com",
        )

    if scenario is None and environment is None:
        raise UsageError(
            "infradiag", "name an environment or pass --scenario FILE", "infradiag triage staging"
        )
    if scenario is not None and environment is not None:
        # Either would be a lie: the report named after ENV while it describes another world, or the
        # scenario judged under settings it was not written for.
        raise UsageError(
            "--scenario",
            f"given together with environment {environment!r}",
            f'drop one; to triage the scenario with the settings of {environment}, set twin = "{scenario}" '
            f"in its [environments.{environment}] table",
        )
    env_config = None
    if scenario is None:
        assert environment is not None
        env_config = load_config(config).environment(environment)
        scenario = env_config.twin
    name = environment or (scenario.stem if scenario else "twin")
    key_file = env_config.credentials if env_config is not None else None
    if key_file is not None and not key_file.is_file():
        raise UsageError(
            str(config or "infradiag.toml"),
            f"[environments.{environment}] credentials: {key_file} is not a file",
            "point `credentials` at a service account key file (relative to the config file's folder)",
        )
    impersonate = impersonate or (env_config.impersonate_service_account if env_config else None)
    with ExitStack() as stack:
        if scenario is None:
            assert env_config is not None and env_config.project and env_config.region
            auth = Authenticator(key_file, impersonate)
            target = Target(environment=name, project=env_config.project, region=env_config.region, auth=auth)
            if env_config.api_endpoint is not None and env_config.monitoring_endpoint is not None:
                endpoints = ApiEndpoints(rest=env_config.api_endpoint, grpc=env_config.monitoring_endpoint)
                # A running twin is read anonymously unless the config names credentials for it.
                auth = Authenticator(
                    key_file, impersonate, anonymous=key_file is None, iam_endpoint=endpoints.rest
                )
                target = dataclasses.replace(target, endpoints=endpoints, now=env_config.now, auth=auth)
        else:
            from infradiag.twin.scenario import load_scenario

            loaded = load_scenario(scenario)
            addresses, auth = stack.enter_context(twin_of(loaded, key_file, impersonate))
            target = Target(
                environment=name,
                project=loaded.project,
                region=loaded.region,
                endpoints=ApiEndpoints(rest=addresses.rest, grpc=addresses.grpc),
                now=loaded.now,
                auth=auth,
                extra_ca_pem=addresses.ca_pem or None,
            )
        if env_config is not None:
            target = dataclasses.replace(
                target,
                services=env_config.services,
                thresholds=env_config.thresholds,
                alerting=env_config.alerting,
                probe=env_config.probe_settings(),
            )
        yield target


@contextmanager
def twin_of(
    scenario: Scenario, key_file: Path | None, impersonate: str | None
) -> Iterator[tuple[TwinAddresses, Authenticator]]:
    """A twin of `scenario`, started here and stopped on exit, and the credentials to read it with:
    anonymous, or at a twin that requires credentials `key_file` (else a key file the twin writes, removed
    on exit), impersonating `impersonate` if given."""
    import tempfile

    from infradiag.identity import Authenticator
    from infradiag.twin.server import Twin

    twin = Twin(scenario)
    addresses = twin.start()  # a start that fails stops what it began
    try:
        if twin.auth is None:
            yield addresses, Authenticator(anonymous=True)
        elif key_file is not None:
            yield addresses, Authenticator(key_file, impersonate, iam_endpoint=addresses.rest)
        else:
            with tempfile.TemporaryDirectory(prefix="infradiag-twin-") as keys:
                key = twin.write_key_file(Path(keys) / "key.json")
                yield addresses, Authenticator(key, impersonate, iam_endpoint=addresses.rest)
    finally:
        twin.stop()


def accepted_findings(
    environment: str | None,
    scenario: Path | None,
    flag: Path | None,
    config: Path | None,
    playbooks: list[Playbook],
) -> list[Suppression]:
    """The suppressions to honour: --suppressions, else the config environment's `suppressions` (none with
    --scenario); their causes are checked against the playbooks."""
    from infradiag.suppress import causes_of, load_suppressions

    path = suppressions_file(environment, scenario, flag, config)
    return [] if path is None else load_suppressions(path, causes_of(playbooks))


def suppressions_file(
    environment: str | None, scenario: Path | None, flag: Path | None, config: Path | None
) -> Path | None:
    """The suppressions file a run honours: --suppressions, else the config environment's `suppressions`
    (none with --scenario); None if there is none."""
    if flag is not None or scenario is not None or environment is None:
        return flag
    from infradiag.config import load_config

    return load_config(config).environment(environment).suppressions
