"""`infradiag triage`: the whole pipeline, one report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from infradiag.commands.common import (
    ConfigOption,
    ConfirmOption,
    DeadlineOption,
    EnvironmentArgument,
    Format,
    ImpersonateOption,
    JunitOption,
    Level,
    PlaybooksOption,
    QuietOption,
    ScenarioOption,
    SuppressionsOption,
    confirming,
    exit_code,
    format_option,
    open_target,
    parse_duration,
    suppressions_file,
)

if TYPE_CHECKING:
    from infradiag.diagnose.playbook import Playbook
    from infradiag.suppress import Suppression


def bundled_playbooks() -> list[Playbook]:
    """The playbooks that ship with infradiag, loaded (with the modules that compile them)."""
    from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks

    return load_playbooks(PLAYBOOK_DIR)


def triage(
    environment: EnvironmentArgument = None,
    scenario: ScenarioOption = None,
    output: Annotated[
        Format,
        format_option(*Format, help="Output format on stdout (json and markdown: nothing else there)."),
    ] = Format.terminal,
    fail_on: Annotated[
        Level, typer.Option("--fail-on", help="Exit 1 at a finding of this priority or higher.")
    ] = Level.P1,
    deadline: DeadlineOption = "120s",
    playbooks: PlaybooksOption = None,
    suppressions: SuppressionsOption = None,
    junit: JunitOption = None,
    quiet: QuietOption = False,
    confirm: ConfirmOption = False,
    verify_fixes: Annotated[
        bool,
        typer.Option(
            "--verify-fixes",
            help="Prove each fix on the twin: apply it to a copy of the scenario, triage that again, and "
            "say whether it clears its finding.",
        ),
    ] = False,
    config: ConfigOption = None,
    impersonate: ImpersonateOption = None,
) -> None:
    """Diagnose an environment (or a scenario's twin) and print the ranked remediation plan."""
    # The probe and environment processes are starting already (cli.main; else importing infradiag.triage).
    from infradiag import runtime
    from infradiag.background import Background
    from infradiag.probe.dispatch import probe_deadline
    from infradiag.report.progress import Status
    from infradiag.triage import triage as run_triage

    runtime.collect_cycles_only_when_idle()
    seconds = parse_duration(deadline, "--deadline")
    books: list[Playbook] | Background[list[Playbook]]
    accepted_file = suppressions_file(environment, scenario, suppressions, config)
    accepted: list[Suppression] = []
    if playbooks is None and accepted_file is None:
        # The bundled playbooks load (they cannot be wrong) while the triage waits for its first answers.
        books = Background(bundled_playbooks, "playbooks")
    else:  # the user's own files: a mistake in them is said before anything runs
        from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks
        from infradiag.suppress import causes_of, load_suppressions

        books = load_playbooks(playbooks or PLAYBOOK_DIR)
        if accepted_file is not None:
            accepted = load_suppressions(accepted_file, causes_of(books))
    with Status(quiet) as status, open_target(environment, scenario, config, impersonate) as target:
        status.task(f"triage {target.environment}: probing services, collecting evidence")
        try:
            target = confirming(target, confirm)
            # Probes end before the deadline (cut ones are reported as timeouts), so the report comes out.
            run = run_triage(target, books, probe_deadline(seconds))
            report, _ = runtime.run(runtime.within(run, seconds))
        except TimeoutError:
            from infradiag.report.junit import write_junit

            problem = f"the deadline of {deadline} passed before a verdict"
            if junit is not None:
                write_junit(junit, None, fail_on.value, target.environment, problem)
            status.error(problem)
            raise typer.Exit(3) from None
        if verify_fixes:
            from infradiag.commands.verify import scenario_of, verify_report

            status.task(f"verifying {len(report.plan)} fix(es) on twins of the scenario")
            twin_scenario = scenario_of(environment, scenario, config)
            loaded = books.result() if isinstance(books, Background) else books
            report = verify_report(report, twin_scenario, target, loaded, seconds)
    from infradiag.report.output import print_report
    from infradiag.suppress import apply_suppressions
    from infradiag.suppress.apply import expiry_warnings

    report = apply_suppressions(report, accepted, report.started_at.date())
    for warning in expiry_warnings(report):
        status.warn(warning)
    if junit is not None:
        from infradiag.report.junit import write_junit

        write_junit(junit, report, fail_on.value, report.environment)
    print_report(report, output.value)
    raise typer.Exit(exit_code(report, fail_on.value))
