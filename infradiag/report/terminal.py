"""The terminal view, in the order on-call reads it: the verdict with the root cause and its blast radius,
the first command to copy, the chain of whys, then the probes, the other findings, the plan and what could
not be checked.

Every text from outside goes to rich as `Text` through `literal` (report/literal.py): shown exactly, never as
markup, with control characters made visible. Commands are printed with `soft_wrap`, one line each, so the
terminal may wrap them on screen but a copy pastes them whole.
"""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.text import Text

from infradiag.report.fixtext import change_text, risks_text, step_verification
from infradiag.report.grouping import (
    FindingGroup,
    Repeats,
    alike_steps,
    explanation_after,
    finding_groups,
    folded_list,
    lead_group,
    probe_groups,
    probe_lines,
    repeats_probes,
)
from infradiag.report.literal import literal
from infradiag.report.model import (
    NO_URL,
    NO_URL_DETAIL,
    ReportEvidence,
    ReportFinding,
    ReportPlanStep,
    TriageReport,
)
from infradiag.report.sparkline import sparkline

VERDICT_STYLE = {
    "healthy": "bold green",
    "degraded": "bold yellow",
    "down": "bold red",
    "unknown": "bold magenta",
}
PRIORITY_STYLE = {"P0": "bold white on red", "P1": "bold red", "P2": "yellow", "P3": "cyan"}
SERVICES_SHOWN = 12  # names of a service list before it is folded
STEPS_SHOWN = 5  # plan steps printed in full; the JSON report holds every one


def _line(console: Console, text: Text, indent: int = 0, hang: int = 2) -> None:
    """One paragraph, wrapped to the console's width: its first row indented by `indent`, the others by
    `indent + hang`; no trailing spaces, nothing of `text` left out."""
    rows = text.wrap(console, max(20, console.width - indent)) or [Text()]
    first = rows[0]
    if not text.plain.startswith(first.plain):
        # Wrapping changed the characters (a tab expanded): print its rows as they are, none lost.
        for number, row in enumerate(rows):
            row.rstrip()
            console.print(Text(" " * (indent + (hang if number else 0))) + row, soft_wrap=True)
        return
    first.rstrip()
    console.print(Text(" " * indent) + first, soft_wrap=True)
    rest = text[len(first.plain) :]
    # The break the first row ended at: the spaces wrapping dropped, or the newline it broke at.
    skipped = len(rest.plain) - len(rest.plain.lstrip(" "))
    skipped += rest.plain[skipped : skipped + 1] == "\n"
    rest = rest[skipped:]
    if not rest.plain:
        return
    for row in rest.wrap(console, max(20, console.width - indent - hang)):
        row.rstrip()
        console.print(Text(" " * (indent + hang)) + row, soft_wrap=True)


def _counted(report: TriageReport) -> str:
    counts: dict[str, int] = {}
    for finding in report.findings:
        if finding.suppressed is None:
            counts[finding.priority] = counts.get(finding.priority, 0) + 1
    suppressed = sum(1 for f in report.findings if f.suppressed is not None)
    text = ", ".join(f"{n} {p}" for p, n in sorted(counts.items())) or "no finding"
    return text + (f" ({suppressed} suppressed)" if suppressed else "")


def _header(report: TriageReport, console: Console) -> None:
    who = f" as {report.identity}" if report.identity else ""
    _line(
        console,
        literal(f"infradiag triage {report.environment} ({report.project}, {report.region}){who}", "bold"),
    )
    failing = sum(1 for p in report.probes if not p.ok)
    unserved = report.services_without_url or []
    _line(
        console,
        Text.assemble(
            (report.verdict.upper(), VERDICT_STYLE[report.verdict]),
            f"  {failing}/{len(report.probes)} probes failing",
            literal(f", {len(unserved)} service(s) without URL") if unserved else "",
            f"; findings: {_counted(report)}",
            (f"; {len(report.unknowns)} source(s) not checked", "magenta") if report.unknowns else "",
            f"; {report.duration_ms / 1000:.1f} s",
        ),
    )


def _cause_fits(group: FindingGroup, width: int) -> bool:
    f = group.first
    return len(f.priority) + len(group.title) + len(f.cause) + 8 <= width


def _headline(group: FindingGroup, width: int) -> Text:
    f = group.first
    head = Text.assemble((f" {f.priority} ", PRIORITY_STYLE[f.priority]), " ", literal(group.title, "bold"))
    if _cause_fits(group, width):  # else the blast radius line names it
        head.append_text(literal(f"  ({f.cause})", "dim"))
    if f.suppressed is not None:
        head.stylize("dim")
    return head


def _blast(group: FindingGroup, report: TriageReport, width: int, lead: FindingGroup | None = None) -> Text:
    services = group.services
    cause = Text() if _cause_fits(group, width) else literal(f"{group.first.cause}; ", "dim")
    if lead is not None and group is not lead and set(services) == set(lead.services):
        return Text.assemble(cause, ("blast radius: ", "bold"), f"the same {len(services)} service(s)")
    probed = len({p.service for p in report.probes})
    of = f" of {probed} probed" if probed else ""
    return Text.assemble(
        cause,
        ("blast radius: ", "bold"),
        literal(f"{len(services)}{of} service(s): {folded_list(services, SERVICES_SHOWN)}"),
    )


def _first_step(report: TriageReport) -> ReportPlanStep | None:
    return next((s for s in report.plan if s.commands and not s.suppressed), None)


def _first_command(report: TriageReport, console: Console) -> None:
    step = _first_step(report)
    if step is None:
        return
    head = Text.assemble(("First command", "bold"), f" (plan step {step.rank}, {step.priority})")
    if step.risks:
        # The ids keep this to one line; the plan below says each risk and the way back in words.
        head.append_text(literal(f"; risks: {', '.join(step.risks)}", "yellow"))
    _line(console, head)
    console.print(literal(step.commands[0], one_line=True), soft_wrap=True)


def _evidence(e: ReportEvidence, detail: str, console: Console, indent: int) -> None:
    line = Text.assemble(literal(f"[{e.source}] ", "dim"), literal(detail))
    _line(console, line, indent)
    drawn = sparkline(e.series) if e.series is not None else None
    if drawn is not None:
        bars = Text()
        for over, run in groupby(zip(drawn.bars, drawn.over, strict=True), key=lambda bar: bar[1]):
            bars.append("".join(char for char, _ in run), "bold red" if over else "green")
        _line(console, Text.assemble(bars, "  ", literal(drawn.caption, "dim")), indent + 2, 0)


def _short(text: str, finding: ReportFinding, repeats: Repeats) -> str:
    """`text` folded, with the finding's whole service list (the blast radius above) named, not repeated, and
    a long message shown before pointed to."""
    services = finding.affected_services
    if len(services) >= 3:
        text = text.replace(", ".join(services), f"the {len(services)} services above")
    return repeats.once(text)


def _whys(
    finding: ReportFinding, report: TriageReport, console: Console, lead: bool, repeats: Repeats
) -> None:
    probed = probe_lines(report.probes)
    for number, why in enumerate(finding.why, 1):
        # Probe lines that say what the Probes section says are counted, not repeated.
        repeated = [e for e in why.evidence if repeats_probes(e, probed)]
        _line(
            console,
            Text.assemble(
                (f"{number}. ", "bold"),
                literal(why.question),
                " ",
                literal(_short(why.answer, finding, repeats), "italic"),
                literal(f" [probe: {len(repeated)}, see Probes]", "dim") if repeated else "",
            ),
            2,
            3,
        )
        for e in why.evidence:
            if not repeats_probes(e, probed):
                _evidence(e, _short(e.detail, finding, repeats), console, 5)
    fix = finding.remediation
    for change in fix.changes or []:
        if lead:
            _line(console, Text.assemble(("change ", "bold"), literal(change_text(change))), 2)
    if fix.changes and not lead:
        # A follow-up's field values can be whole API objects: named here, shown in full in the other formats.
        fields = ", ".join(c.field for c in fix.changes)
        _line(console, literal(f"changes {fields} (values: --format markdown)", "dim"), 2)


def _probes(report: TriageReport, console: Console, repeats: Repeats) -> None:
    unserved = report.services_without_url or []
    if not report.probes and not unserved:
        return
    paths = {p.path for p in report.probes}
    # One path for every probe (a fleet's /health) is said once, in the heading.
    same = next(iter(paths)) if len(paths) == 1 else None
    heading = Text("Probes", style="bold underline")
    if same is not None:
        heading.append_text(literal(f" of {same}"))
    _line(console, heading)
    if unserved:
        _line(
            console,
            Text.assemble(
                ("✗ ", "red"),
                (NO_URL, "red"),
                literal(f" {len(unserved)}: {folded_list(unserved, SERVICES_SHOWN)}"),
            ),
            2,
        )
        _line(console, literal(NO_URL_DETAIL, "dim"), 4)
    for group in probe_groups(report.probes):
        mark, style = ("✓ ", "green") if group.ok else ("✗ ", "red")
        services = group.services
        # The status says the outcome of an HTTP answer; other outcomes (timeout, dns_error) are named.
        said = group.status is not None and group.detail.startswith(str(group.status))
        outcome = "" if said else f"{group.outcome}: "
        _line(
            console,
            Text.assemble(
                (mark, style),
                literal("" if same is not None else f"{group.path} ", "bold"),
                literal(f"{outcome}{group.detail or group.outcome}", style),
                literal(f" ({group.latency()})", "dim"),
                literal(f" {len(services)}: {folded_list(services, SERVICES_SHOWN)}"),
            ),
            2,
        )
        if group.explanation:
            # "503 from the Google Front End: what it means; here because ...": the detail above already says
            # who answered, so the meaning follows it.
            shown = explanation_after(group.detail, group.explanation)
            _line(console, literal(f"= {repeats.once(shown)}", "dim"), 4)


def _finding(
    group: FindingGroup, report: TriageReport, console: Console, lead: FindingGroup | None, repeats: Repeats
) -> None:
    f = group.first
    if group is not lead:
        _line(console, _headline(group, console.width))
        _line(console, _blast(group, report, console.width, lead), 2)
    if f.suppressed is not None:
        s = f.suppressed
        _line(
            console,
            literal(f"suppressed until {s.expires.isoformat()}: {s.reason} ({s.source})", "yellow"),
            2,
        )
    if len(group.findings) > 1:
        _line(console, literal(f"why, for {f.resources[0]} (the others alike):", "dim"), 2)
    _whys(f, report, console, group is lead, repeats)


def _step(
    report: TriageReport,
    step: ReportPlanStep,
    console: Console,
    repeats: Repeats,
    urgent: set[str],
    first: ReportPlanStep | None,
) -> None:
    action = repeats.once(step.action)
    console.print(literal(f"# {step.rank}. {action}", "bold", one_line=True), soft_wrap=True)
    if (verified := step_verification(report, step)) is not None:  # only with --verify-fixes
        console.print(literal(f"# on the twin: {verified}", "dim", one_line=True), soft_wrap=True)
    if step.risks:
        console.print(literal(f"# risks: {risks_text(step.risks)}", "yellow", one_line=True), soft_wrap=True)
    for way_back in step.way_back or []:
        console.print(literal(f"# way back: {way_back}", one_line=True), soft_wrap=True)
    if step.priority not in urgent:
        console.print(literal("# command and terraform: --format markdown or json"), soft_wrap=True)
        return
    for number, command in enumerate(step.commands):
        if step is first and number == 0:
            console.print(literal("# command: the first command, at the top"), soft_wrap=True)
            continue
        console.print(literal(command, one_line=True), soft_wrap=True)
    for terraform in step.terraform:
        if "\n" not in terraform:
            console.print(literal(f"# terraform: {terraform}", one_line=True), soft_wrap=True)
            continue
        # A whole resource block is a file's content, not a line to paste mid-outage: named, with where to
        # get it, so the screen keeps to what is done now.
        console.print(
            literal(f"# terraform: {_block_name(terraform)} (--format markdown)", one_line=True),
            soft_wrap=True,
        )


def _fixes(report: TriageReport, groups: list[FindingGroup], console: Console, repeats: Repeats) -> None:
    # soft_wrap: a command broken over lines by the terminal width would not paste. One line each: a newline
    # from outside text inside a command would run its second half on its own when pasted.
    steps = [s for s in report.plan if s.commands or s.terraform]
    if not steps:
        return
    _line(console, Text("Plan", style="bold underline"))
    first = _first_step(report)
    # The outage's own steps (P0, P1, or the most urgent there is) show their commands; a follow-up's command
    # (an alert policy to add) is for after the outage, and long: named, with where to get it.
    urgent = {"P0", "P1", steps[0].priority}
    batches = alike_steps(groups, steps)
    for batch in batches[:STEPS_SHOWN]:
        _step(report, batch[0], console, repeats, urgent, first)
        if len(batch) > 1:
            risky = " (each with the risks above)" if batch[0].risks else ""
            console.print(
                literal(
                    f"# ... and {len(batch) - 1} more step(s) alike, one per service{risky}: steps"
                    f" {batch[1].rank}-{batch[-1].rank} in --format json or markdown",
                    "yellow" if risky else "",
                ),
                soft_wrap=True,
            )
    rest = [step for batch in batches[STEPS_SHOWN:] for step in batch]
    if rest:
        risky_steps = sum(1 for s in rest if s.risks)
        console.print(
            literal(
                f"# ... {len(rest)} more step(s) ({risky_steps} with risks): every command is in"
                " --format json or markdown",
                "yellow" if risky_steps else "",
            ),
            soft_wrap=True,
        )


def _block_name(terraform: str) -> str:
    """`resource "TYPE" "NAME"` of a Terraform block, from its first line."""
    return terraform.split("\n", 1)[0].removesuffix("{").strip()


def _unknowns(report: TriageReport, console: Console) -> None:
    if report.unknowns:
        _line(console, Text("Could not check", style="bold underline"))
    for u in report.unknowns:
        _line(
            console, Text.assemble(("? ", "magenta"), literal(f"{u.source} {u.reason}: {u.consequence}")), 2
        )
        # One line, never folded: the fix often holds a command to paste (`gcloud services enable ...`).
        console.print(Text.assemble("    ", ("fix: ", "bold"), literal(u.fix, one_line=True)), soft_wrap=True)
    if report.expired_suppressions:
        _line(console, Text("Expired suppressions (they no longer apply)", style="bold underline"))
    for e in report.expired_suppressions or []:
        _line(
            console,
            literal(f"{e.cause} on {e.resource}: expired {e.expires.isoformat()}: {e.reason} ({e.source})"),
            2,
        )


def render(report: TriageReport, console: Console) -> None:
    """Print the whole report to `console`; any text of the report shows literally (see module doc). The
    most urgent finding's title, blast radius and the first command come first."""
    _header(report, console)
    groups = finding_groups(report.findings)
    lead = lead_group(groups)
    if lead is not None:
        _line(console, _headline(lead, console.width))
        _line(console, _blast(lead, report, console.width), 2)
    _first_command(report, console)
    repeats = Repeats()
    if lead is not None:
        _finding(lead, report, console, lead, repeats)
    _probes(report, console, repeats)
    others = [g for g in groups if g is not lead]
    for group in others:
        _finding(group, report, console, lead, repeats)
    _fixes(report, groups, console, repeats)
    _unknowns(report, console)
