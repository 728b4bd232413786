"""The Markdown view, for incident docs and PR comments (GitHub-flavoured Markdown with Mermaid).

Every piece of report text is escaped for where it lands: table cells, inline code, fenced blocks and
Mermaid node labels each have their own rules, so no service name, error body or command can break the
layout or inject markup. Control characters are shown as escapes, as in the terminal (report/literal.py);
runs of spaces, tabs and newlines become one space, except in code blocks, which keep their lines.
"""

from __future__ import annotations

import re

from infradiag.report.fixtext import change_text, risks_text
from infradiag.report.grouping import (
    FindingGroup,
    alike_steps,
    explanation_after,
    finding_groups,
    folded_list,
    folded_text,
    lead_group,
    probe_groups,
    probe_lines,
    repeats_probes,
)
from infradiag.report.literal import visible
from infradiag.report.model import (
    NO_URL,
    NO_URL_DETAIL,
    ReportEvidence,
    ReportFinding,
    ReportPlanStep,
    TriageReport,
)
from infradiag.report.sparkline import sparkline

PROBE_ROWS = 20  # probes listed one per row; past this many, one row per group of probes that failed alike
SERVICES_SHOWN = 20  # names of a grouped service list before it is folded

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that start markup inline
# (`>` only quotes at the start of a line, where this text never goes; `$` starts math on GitHub).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<#+!~&$])")
# Mermaid decodes `#NUMBER;` in labels to the character with that code point
# (https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters). A quote would end the
# label, `#` would start an entity, `<`/`>`/`&` would be HTML, and a leading backtick a Markdown string.
_MERMAID_ESCAPED = {char: f"#{ord(char)};" for char in '"#<>&`'}


def _flat(value: str) -> str:
    return re.sub(r"[ \t\n]+", " ", visible(value)).strip(" ")


def text(value: str) -> str:
    """`value` as Markdown text that renders literally, on one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _flat(value))


def code(value: str) -> str:
    """`value` as an inline code span (delimited by more backticks than it contains)."""
    value = _flat(value)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def cell(value: str) -> str:
    """Rendered Markdown made safe inside a GFM table cell: GFM splits cells at every unescaped pipe, even
    inside code spans, and shows `\\|` as a pipe in both."""
    return value.replace("|", "\\|")


def fenced(body: str, language: str = "") -> str:
    """`body` as a fenced code block whose fence is longer than any backtick run inside it."""
    body = visible(body)
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{body}\n{fence}"


def mermaid_label(value: str) -> str:
    """`value` as a quoted Mermaid node label that shows exactly `value` (on one line)."""
    flat = _flat(value)
    return '"' + "".join(_MERMAID_ESCAPED.get(char, char) for char in flat) + '"'


def why_flowchart(finding: ReportFinding, prefix: str = "n") -> str:
    """The finding's chain of whys as a Mermaid flowchart: question -> answer -> next question -> ... ->
    the root cause."""
    lines = ["flowchart TD"]
    previous: str | None = None
    for number, why in enumerate(finding.why, 1):
        question, answer = f"{prefix}q{number}", f"{prefix}a{number}"
        lines.append(f"  {question}[{mermaid_label(why.question)}]")
        lines.append(f"  {answer}({mermaid_label(why.answer)})")
        if previous is not None:
            lines.append(f"  {previous} --> {question}")
        lines.append(f"  {question} --> {answer}")
        previous = answer
    cause = f"{prefix}cause"
    label = f"{finding.priority} root cause {finding.cause}: {finding.title}"
    lines.append(f"  {cause}{{{{{mermaid_label(label)}}}}}")
    if previous is not None:
        lines.append(f"  {previous} --> {cause}")
    return "\n".join(lines)


def _url(value: str) -> str:
    # A link destination in <...> ends at `>`, cannot hold `<` or a line break, and takes backslash escapes.
    flat = visible(value, one_line=True)
    return "".join(f"%{ord(c):02X}" if c in " <>\\\t" else c for c in flat)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def _probe_detail(detail: str, explanation: str | None) -> str:
    return text(detail) + (f" ({text(explanation_after(detail, explanation))})" if explanation else "")


def _grouped_probes(report: TriageReport) -> list[str]:
    """One row per group of probes that ended alike, services folded: a fleet-wide outage in a few rows."""
    rows = []
    unserved = report.services_without_url or []
    if unserved:
        rows.append(
            [
                "-",
                f"**{code(NO_URL)}**",
                "-",
                str(len(unserved)),
                text(folded_list(unserved, SERVICES_SHOWN)),
                text(NO_URL_DETAIL),
            ]
        )
    for group in probe_groups(report.probes):
        outcome = code(group.outcome) if group.ok else f"**{code(group.outcome)}**"
        services = group.services
        rows.append(
            [
                code(group.path),
                outcome,
                str(group.status or "-"),
                str(len(services)),
                text(folded_list(services, SERVICES_SHOWN)),
                _probe_detail(group.detail, group.explanation),
            ]
        )
    header = ["path", "outcome", "status", "probes", "services", "detail"]
    return ["### Probes", "", *_table(header, rows)]


def _probes(report: TriageReport) -> list[str]:
    """Failing first: services without a URL (never probed), then failing probes, then passing ones."""
    if len(report.probes) > PROBE_ROWS:
        return _grouped_probes(report)
    rows = [
        [text(name), "-", f"**{code(NO_URL)}**", "-", "-", text(NO_URL_DETAIL)]
        for name in report.services_without_url or []
    ]
    rows += [
        [
            text(p.service),
            code(p.path),
            (code(p.outcome) if p.ok else f"**{code(p.outcome)}**"),
            str(p.status or "-"),
            f"{p.latency_ms / 1000:.2f} s",
            _probe_detail(p.detail, p.explanation),
        ]
        for p in sorted(report.probes, key=lambda p: (p.ok, p.service, p.path))
    ]
    return ["### Probes", "", *_table(["service", "path", "outcome", "status", "latency", "detail"], rows)]


def _evidence(e: ReportEvidence) -> list[str]:
    out = [f"   - {text(e.source)}: {text(folded_text(e.detail, 1000))}"]
    drawn = sparkline(e.series) if e.series is not None else None
    if drawn is not None:
        # The bars as code, so they keep their width; the caption says in words what colour would.
        out.append(f"     {code(drawn.bars)} {text(drawn.caption)}")
    return out


def _finding(number: int, group: FindingGroup, probed: set[str]) -> list[str]:
    f = group.first
    out = [f"#### {number}. {f.priority} · {text(group.title)}", ""]
    if f.suppressed is not None:
        s = f.suppressed
        out += [
            f"> **Suppressed** until {s.expires.isoformat()}: {text(s.reason)} ({code(s.source)}). "
            "Listed, but it counts for neither the verdict nor the exit code.",
            "",
        ]
    out += [
        f"- cause: {code(f.cause)}, confidence {f.confidence:.0%}",
        f"- resource: {', '.join(code(r) for r in f.resources)}{group.more_alike}",
        f"- affects {len(group.services)}: "
        + (text(folded_list(group.services, SERVICES_SHOWN)) or "no service"),
        "",
        fenced(why_flowchart(f, prefix=f"f{number}"), "mermaid"),
        "",
        "<details><summary>Evidence</summary>",
        "",
    ]
    for index, why in enumerate(f.why, 1):
        out.append(f"{index}. {text(why.question)} {text(why.answer)}")
        repeats = [repeats_probes(e, probed) for e in why.evidence]
        folded = sum(repeats) > PROBE_ROWS  # a fleet's probes: the Probes table lists them
        if folded:
            out.append(f"   - probe: {sum(repeats)} probes, as in the Probes table")
        shown = [e for e, repeat in zip(why.evidence, repeats, strict=True) if not (folded and repeat)]
        out += [line for e in shown for line in _evidence(e)]
    out += ["", "</details>", ""]
    remedy = f.remediation
    out.append(f"Fix: {text(remedy.summary)}" + (f" ([docs](<{_url(remedy.docs)}>))" if remedy.docs else ""))
    if remedy.changes or remedy.risks:
        out.append("")
        out += [f"- change {text(change_text(c))}" for c in remedy.changes or []]
        if remedy.risks:
            out.append(f"- **risks:** {text(risks_text(remedy.risks))}")
        if remedy.way_back:
            out.append(f"- way back: {text(remedy.way_back)}")
    if remedy.verification is not None:  # only with `triage --verify-fixes`
        if not (remedy.changes or remedy.risks):
            out.append("")
        out.append(f"- on the twin: {text(remedy.verification.detail)}")
    return out


def _plan_step(step: ReportPlanStep) -> list[str]:
    if not step.commands and not step.terraform:
        return []
    out = [f"#### Step {step.rank}: {text(step.action)}", ""]
    if step.risks:
        out += [f"**Risks:** {text(risks_text(step.risks))}", ""]
    out += [f"Way back: {text(way_back)}\n" for way_back in step.way_back or []]
    if step.commands:
        # One line per command: a newline from outside text would run the rest on its own when pasted.
        out += [fenced("\n".join(visible(c, one_line=True) for c in step.commands), "sh"), ""]
    lines = [t for t in step.terraform if "\n" not in t]
    blocks = [t for t in step.terraform if "\n" in t]
    if lines:
        out += ["Terraform:", "", fenced("\n".join(visible(t, one_line=True) for t in lines), "text"), ""]
    for block in blocks:
        # A resource block rendered from a typed change: its strings are HCL-escaped, so each line is its own.
        body = "\n".join(visible(line, one_line=True) for line in block.split("\n"))
        out += ["Terraform:", "", fenced(body, "hcl"), ""]
    return out


def _plan(report: TriageReport, groups: list[FindingGroup]) -> list[str]:
    """The plan table and each step's commands; steps alike (one per service of a folded finding group, of
    `groups`) are one row and one section, the first step's, naming the others."""
    batches = alike_steps(groups, report.plan)
    rows = []
    for batch in batches:
        step, more = batch[0], len(batch) - 1
        rows.append(
            [
                str(step.rank) + (f"-{batch[-1].rank}" if more else ""),
                step.priority + (" (suppressed)" if step.suppressed else ""),
                text(step.action) + (f" (and {more} more alike, one per service)" if more else ""),
                ", ".join(code(f) for f in step.findings) + (f" and {more} more" if more else ""),
                f"{sum(s.blast_radius for s in batch)} service(s)",
                ", ".join(code(r) for r in step.risks or []) or "-",
            ]
        )
    header = ["#", "priority", "action", "resolves", "blast radius", "risks"]
    out = ["### Remediation plan", "", *_table(header, rows)]
    out.append("")
    for batch in batches:
        out += _plan_step(batch[0])
        if len(batch) > 1 and (batch[0].commands or batch[0].terraform):
            out += [
                f"Steps {batch[1].rank}-{batch[-1].rank} are alike, one per service"
                + (", each with the risks above" if batch[0].risks else "")
                + ": their commands are in `--format json`.",
                "",
            ]
    return out


def _unknowns(report: TriageReport) -> list[str]:
    rows = [[text(u.source), text(u.reason), text(u.consequence), text(u.fix)] for u in report.unknowns]
    return ["### Could not check", "", *_table(["source", "reason", "consequence", "fix"], rows)]


def _expired(report: TriageReport) -> list[str]:
    rows = [
        [code(s.cause), code(s.resource), s.expires.isoformat(), text(s.reason), code(s.source)]
        for s in report.expired_suppressions or []
    ]
    return [
        "### Expired suppressions",
        "",
        "These no longer apply; renew `expires` or remove them.",
        "",
        *_table(["cause", "resource", "expired", "reason", "where"], rows),
    ]


def render_markdown(report: TriageReport) -> str:
    """The whole report as one Markdown document (ends with a newline)."""
    failing = sum(1 for p in report.probes if not p.ok)
    unserved = report.services_without_url or []
    suppressed = sum(1 for f in report.findings if f.suppressed is not None)
    counted = f"{len(report.findings)} finding(s)" + (f", {suppressed} suppressed" if suppressed else "")
    out = [
        f"## infradiag: {text(report.environment)} is {report.verdict.upper()}",
        "",
        f"{code(report.project)} · {code(report.region)} · started {report.started_at:%Y-%m-%dT%H:%M:%SZ}"
        f" · {report.duration_ms} ms · {failing} of {len(report.probes)} probes failing"
        + (f" · not probed (no URL): {text(', '.join(unserved))}" if unserved else "")
        + f" · {counted}",
        "",
    ]
    if report.identity:
        out += [f"Read as {code(report.identity)}.", ""]
    groups = finding_groups(report.findings)
    lead = lead_group(groups)
    if lead is not None:  # the answer first: the root cause and its blast radius, then the details
        f = lead.first
        services = text(folded_list(lead.services, SERVICES_SHOWN))
        out += [
            f"**Root cause ({f.priority}):** {text(f.title)}{lead.more_alike}"
            f" · blast radius {len(lead.services)} service(s): {services}",
            "",
        ]
    sections = []
    if report.probes or unserved:
        sections.append(_probes(report))
    if report.findings:
        found = ["### Root causes", ""]
        probed = probe_lines(report.probes)
        for number, group in enumerate(groups, 1):
            found += [*_finding(number, group, probed), ""]
        sections.append(found[:-1])
    if report.plan:
        sections.append(_plan(report, groups))
    if report.unknowns:
        sections.append(_unknowns(report))
    if report.expired_suppressions:
        sections.append(_expired(report))
    for section in sections:
        out += [*section, ""]
    return "\n".join(out).rstrip("\n") + "\n"
