"""`infradiag capture`: the reads and probes of a triage, recorded (redacted) as a scenario file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infradiag.commands.common import (
    ConfigOption,
    DeadlineOption,
    EnvironmentArgument,
    ImpersonateOption,
    QuietOption,
    ScenarioOption,
    open_target,
    parse_duration,
)

if TYPE_CHECKING:
    from infradiag.collect.capture import Capture

HELP = """Record what a triage reads and sees as a scenario file (format v1), redacted.

Makes exactly the read-only API calls and probes of a triage, and writes their answers as a scenario:
`infradiag triage --scenario FILE` replays them with the same findings. Cloud Run env values (secret
references keep their names), tokens and keys are redacted; --redact-identities also replaces IAM member
emails. Monitoring series are kept for the windows the triage reads.

Exit codes: 0 every read answered and everything was recorded; 2 bad input (nothing written); 3 written,
but some read failed (recorded as a fault where the format can replay it) or something could not be
recorded (the file's header names it); or nothing written (no credentials, the deadline passed).
"""


def capture(
    environment: EnvironmentArgument = None,
    scenario: ScenarioOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Scenario file to write (required).")
    ] = None,
    redact_identities: Annotated[
        bool,
        typer.Option(
            "--redact-identities", help="Replace IAM member emails (consistently: the replay still joins)."
        ),
    ] = False,
    deadline: DeadlineOption = "120s",
    quiet: QuietOption = False,
    config: ConfigOption = None,
    impersonate: ImpersonateOption = None,
) -> None:

    from infradiag import runtime
    from infradiag.collect.capture import AuthFailed
    from infradiag.collect.capture import capture as run_capture
    from infradiag.errors import UsageError
    from infradiag.probe.dispatch import probe_deadline
    from infradiag.report.progress import Status

    if output is None:
        raise UsageError(
            "capture", "-o/--output FILE is required", "infradiag capture staging -o staging.yaml"
        )
    if output.is_dir() or not output.parent.is_dir():
        raise UsageError(
            "--output", f"{output}: not a file in an existing directory", "name a file, e.g. -o capture.yaml"
        )
    seconds = parse_duration(deadline, "--deadline")
    with Status(quiet) as status, open_target(environment, scenario, config, impersonate) as target:
        status.task(f"capture {target.environment}: probing services, recording API answers")
        name = f"{target.environment}-capture".lower()
        try:
            run = run_capture(target, name, probe_deadline(seconds), redact_identities)
            captured = runtime.run(runtime.within(run, seconds))
        except TimeoutError:
            status.error(
                f"the deadline of {deadline} passed before the capture was complete; nothing written"
            )
            raise typer.Exit(3) from None
        except AuthFailed as failed:
            status.error(f"no credentials: {failed.unknown.fix}; nothing written")
            raise typer.Exit(3) from None
    write_capture(output, captured, target.environment)
    try:
        validate(output)
    except CaptureUnloadable as error:
        print(
            f"infradiag: the capture does not load as a scenario (report this as a bug): {error}",
            file=sys.stderr,
        )
        raise typer.Exit(3) from None
    for note in captured.notes:
        status.warn(f"not recorded: {note}")
    counts = captured.scenario
    print(
        f"{output}: captured {target.environment} "
        f"({len(counts.get('run', {}).get('services', []))} services, {len(captured.probes)} probes, "
        f"{len(counts.get('monitoring', {}).get('timeSeries', []))} time series)"
    )
    raise typer.Exit(3 if captured.notes or captured.unknowns else 0)


capture.__doc__ = HELP


def write_capture(output: Path, captured: Capture, environment: str) -> None:
    """Write the scenario as YAML behind a comment header naming its origin and what it does not hold;
    written to a temporary file beside `output` first, so a failed write leaves no half file."""
    import os

    import yaml

    from infradiag.collect.capture_redact import redact_text

    header = [
        f"# Captured by `infradiag capture` from {environment}, redacted (env values, tokens, keys).",
        "# Replay: infradiag triage --scenario THIS_FILE",
    ]
    if captured.notes:
        header.append("# Not recorded (the replay does not reproduce these):")
        header += [f"#   - {_comment_text(redact_text(note))}" for note in captured.notes]
    body = yaml.safe_dump(captured.scenario, sort_keys=False, allow_unicode=True, width=120)
    partial = output.with_name(f".{output.name}.partial")
    partial.write_text("\n".join(header) + "\n" + body, encoding="utf-8")
    os.replace(partial, output)


def _comment_text(text: str) -> str:
    """`text` on one line of a YAML comment: whitespace collapsed, characters YAML forbids in a stream (C0
    controls, which a server's message may hold) shown as `?`."""
    return "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))


def validate(output: Path) -> None:
    """Load the written file as the twin does: a capture that does not is a bug, said on one line (exit 3)."""
    from infradiag.errors import UsageError
    from infradiag.twin.scenario import load_scenario

    try:
        load_scenario(output)
    except UsageError as error:
        raise CaptureUnloadable(error.one_line()) from None


class CaptureUnloadable(Exception):
    """The written capture does not load as a scenario."""
