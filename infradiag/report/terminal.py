"""The terminal view: verdict, probes, each finding's chain of whys, the ranked plan, unknowns."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from infradiag.report.model import ReportFinding, TriageReport

VERDICT_STYLE = {
    "healthy": "bold green",
    "degraded": "bold yellow",
    "down": "bold red",
    "unknown": "bold magenta",
}
PRIORITY_STYLE = {"P0": "bold white on red", "P1": "bold red", "P2": "yellow", "P3": "cyan"}


def _probes(report: TriageReport) -> Table:
    table = Table(title="Probes", title_justify="left", expand=False)
    for column in ("service", "path", "outcome", "status", "latency", "detail"):
        table.add_column(column, overflow="fold")
    for p in sorted(report.probes, key=lambda p: (p.ok, p.service)):
        style = "green" if p.ok else "red"
        table.add_row(
            p.service,
            p.path,
            Text(p.outcome, style=style),
            str(p.status or "-"),
            f"{p.latency_ms / 1000:.2f} s",
            p.detail,
        )
    return table


def _finding(f: ReportFinding) -> Tree:
    head = Text.assemble(
        (f" {f.priority} ", PRIORITY_STYLE[f.priority]), " ", (f.title, "bold"), f"  [{f.cause}]"
    )
    if f.suppressed is not None:
        head.stylize("dim")
    tree = Tree(head)
    if f.suppressed is not None:
        s = f.suppressed
        tree.add(Text(f"suppressed until {s.expires.isoformat()}: {s.reason} ({s.source})", style="yellow"))
    tree.add(Text(f"resource: {', '.join(f.resources)}", style="dim"))
    tree.add(Text(f"affects {len(f.affected_services)}: {', '.join(f.affected_services)}", style="dim"))
    node = tree
    for number, why in enumerate(f.why, 1):
        node = node.add(
            Text.assemble((f"why {number}: ", "bold"), why.question, " -> ", (why.answer, "italic"))
        )
        for e in why.evidence:
            node.add(Text(f"[{e.source}] {e.detail}", style="dim"))
    return tree


def _plan(report: TriageReport) -> Table:
    table = Table(title="Remediation plan", title_justify="left")
    for column in ("#", "priority", "action", "blast radius"):
        table.add_column(column, overflow="fold")
    for step in report.plan:
        table.add_row(
            str(step.rank),
            Text(step.priority, style=PRIORITY_STYLE[step.priority]),
            step.action + (" (suppressed)" if step.suppressed else ""),
            f"{step.blast_radius} service(s)",
        )
    return table


def _fixes(report: TriageReport, console: Console) -> None:
    # soft_wrap: a command broken over lines by the terminal width would not paste.
    for step in report.plan:
        if not step.commands and not step.terraform:
            continue
        console.print(Text(f"# {step.rank}. {step.action}", style="bold"), soft_wrap=True)
        for command in step.commands:
            console.print(command, soft_wrap=True, markup=False, highlight=False)
        for terraform in step.terraform:
            console.print(f"# terraform: {terraform}", soft_wrap=True, markup=False, highlight=False)


def render(report: TriageReport, console: Console) -> None:
    """Print the whole report to `console`."""
    verdict = Text(report.verdict.upper(), style=VERDICT_STYLE[report.verdict])
    failing = sum(1 for p in report.probes if not p.ok)
    suppressed = sum(1 for f in report.findings if f.suppressed is not None)
    header = Text.assemble(
        f"{report.environment} ({report.project}, {report.region}): ",
        verdict,
        f"   {failing}/{len(report.probes)} probes failing, {len(report.findings)} finding(s)",
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
        table = Table(title="Could not check", title_justify="left")
        for column in ("source", "reason", "consequence", "fix"):
            table.add_column(column, overflow="fold")
        for u in report.unknowns:
            table.add_row(u.source, u.reason, u.consequence, u.fix)
        console.print(table)
    if report.expired_suppressions:
        table = Table(title="Expired suppressions (they no longer apply)", title_justify="left")
        for column in ("cause", "resource", "expired", "reason", "where"):
            table.add_column(column, overflow="fold")
        for e in report.expired_suppressions:
            table.add_row(e.cause, e.resource, e.expires.isoformat(), e.reason, e.source)
        console.print(table)
