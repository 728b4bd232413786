"""The terminal view: verdict, probes, each finding's chain of whys, the ranked plan, unknowns.

Every text from outside goes to rich as `Text` through `literal` (report/literal.py): shown exactly, never as
markup, with control characters made visible.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from infradiag.report.fixtext import change_text, risks_text, step_verification
from infradiag.report.literal import literal
from infradiag.report.model import ReportFinding, TriageReport

VERDICT_STYLE = {
    "healthy": "bold green",
    "degraded": "bold yellow",
    "down": "bold red",
    "unknown": "bold magenta",
}
PRIORITY_STYLE = {"P0": "bold white on red", "P1": "bold red", "P2": "yellow", "P3": "cyan"}


def _table(title: str, columns: tuple[str, ...], rows: list[list[Text]], expand: bool | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    if expand is not None:
        table.expand = expand
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _probes(report: TriageReport) -> Table:
    rows = [
        [
            literal(p.service),
            literal(p.path),
            literal(p.outcome, "green" if p.ok else "red"),
            Text(str(p.status or "-")),
            Text(f"{p.latency_ms / 1000:.2f} s"),
            literal(p.detail),
        ]
        for p in sorted(report.probes, key=lambda p: (p.ok, p.service))
    ]
    return _table("Probes", ("service", "path", "outcome", "status", "latency", "detail"), rows, expand=False)


def _finding(f: ReportFinding) -> Tree:
    head = Text.assemble(
        (f" {f.priority} ", PRIORITY_STYLE[f.priority]),
        " ",
        literal(f.title, "bold"),
        "  [",
        literal(f.cause),
        "]",
    )
    if f.suppressed is not None:
        head.stylize("dim")
    tree = Tree(head)
    if f.suppressed is not None:
        s = f.suppressed
        tree.add(literal(f"suppressed until {s.expires.isoformat()}: {s.reason} ({s.source})", "yellow"))
    tree.add(literal(f"resource: {', '.join(f.resources)}", "dim"))
    tree.add(literal(f"affects {len(f.affected_services)}: {', '.join(f.affected_services)}", "dim"))
    node = tree
    for number, why in enumerate(f.why, 1):
        node = node.add(
            Text.assemble(
                (f"why {number}: ", "bold"), literal(why.question), " -> ", literal(why.answer, "italic")
            )
        )
        for e in why.evidence:
            node.add(literal(f"[{e.source}] {e.detail}", "dim"))
    fix = f.remediation
    if fix.changes or fix.risks:
        branch = tree.add(Text.assemble(("fix: ", "bold"), literal(fix.summary)))
        for change in fix.changes or []:
            branch.add(literal(change_text(change)))
        if fix.risks:
            branch.add(literal(f"risks: {risks_text(fix.risks)}", "yellow"))
        if fix.way_back:
            branch.add(literal(f"way back: {fix.way_back}", "dim"))
    return tree


def _plan(report: TriageReport) -> Table:
    rows = [
        [
            Text(str(step.rank)),
            Text(step.priority, style=PRIORITY_STYLE[step.priority]),
            literal(step.action + (" (suppressed)" if step.suppressed else "")),
            Text(f"{step.blast_radius} service(s)"),
            Text(", ".join(step.risks or []) or "-", style="yellow" if step.risks else ""),
        ]
        for step in report.plan
    ]
    return _table("Remediation plan", ("#", "priority", "action", "blast radius", "risks"), rows)


def _fixes(report: TriageReport, console: Console) -> None:
    # soft_wrap: a command broken over lines by the terminal width would not paste. One line each: a newline
    # from outside text inside a command would run its second half on its own when pasted.
    for step in report.plan:
        if not step.commands and not step.terraform:
            continue
        console.print(literal(f"# {step.rank}. {step.action}", "bold", one_line=True), soft_wrap=True)
        if (verified := step_verification(report, step)) is not None:  # only with --verify-fixes
            console.print(literal(f"# on the twin: {verified}", "dim", one_line=True), soft_wrap=True)
        if step.risks:
            console.print(
                literal(f"# risks: {risks_text(step.risks)}", "yellow", one_line=True), soft_wrap=True
            )
        for way_back in step.way_back or []:
            console.print(literal(f"# way back: {way_back}", one_line=True), soft_wrap=True)
        for command in step.commands:
            console.print(literal(command, one_line=True), soft_wrap=True)
        for terraform in step.terraform:
            if "\n" not in terraform:
                console.print(literal(f"# terraform: {terraform}", one_line=True), soft_wrap=True)
                continue
            # A whole resource block, line by line (rendered from a typed change: its strings are HCL-escaped,
            # so no line of it comes from a newline in outside text), for a .tf file.
            console.print(literal("# terraform (a .tf file):", one_line=True), soft_wrap=True)
            for line in terraform.split("\n"):
                console.print(literal(line, one_line=True), soft_wrap=True)


def render(report: TriageReport, console: Console) -> None:
    """Print the whole report to `console`; any text of the report shows literally (see module doc)."""
    verdict = Text(report.verdict.upper(), style=VERDICT_STYLE[report.verdict])
    failing = sum(1 for p in report.probes if not p.ok)
    suppressed = sum(1 for f in report.findings if f.suppressed is not None)
    header = Text.assemble(
        literal(f"{report.environment} ({report.project}, {report.region}): "),
        verdict,
        f"   {failing}/{len(report.probes)} probes failing, {len(report.findings)} finding(s)",
        literal(f", not probed (no URL): {', '.join(report.services_without_url)}")
        if report.services_without_url
        else "",
        f" ({suppressed} suppressed)" if suppressed else "",
        f", {report.duration_ms} ms",
    )
    console.print(Panel(header, title="infradiag triage", expand=False))
    if report.probes:
        console.print(_probes(report))
    if report.findings:
        console.print(
            Panel(Group(*(_finding(f) for f in report.findings)), title="Root causes", expand=False)
        )
    if report.plan:
        console.print(_plan(report))
        _fixes(report, console)
    if report.unknowns:
        rows = [
            [literal(u.source), literal(u.reason), literal(u.consequence), literal(u.fix)]
            for u in report.unknowns
        ]
        console.print(_table("Could not check", ("source", "reason", "consequence", "fix"), rows))
    if report.expired_suppressions:
        rows = [
            [
                literal(e.cause),
                literal(e.resource),
                Text(e.expires.isoformat()),
                literal(e.reason),
                literal(e.source),
            ]
            for e in report.expired_suppressions
        ]
        columns = ("cause", "resource", "expired", "reason", "where")
        console.print(_table("Expired suppressions (they no longer apply)", columns, rows))
