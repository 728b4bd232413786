"""What the views fold so a report reads at a glance whatever the fleet's size: probes that failed alike,
findings that repeat across services, long service lists and long messages from outside, evidence lines that
only repeat the probes; and the finding group every view opens with."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infradiag.report.model import ReportEvidence, ReportFinding, ReportPlanStep, ReportProbe

# "503 after 1.3 s from ..." -> "503 from ...": latency is the table's, the rest is what failed.
_LATENCY = re.compile(r" after \d+(?:\.\d+)? (?:ms|s)\b")
LONG_TEXT = 300  # characters of an outside text shown before it is folded


@dataclass(frozen=True)
class ProbeGroup:
    """Probes of one path that ended alike: same outcome, status and detail once latency is set aside."""

    ok: bool
    path: str
    outcome: str
    status: int | None
    detail: str  # without latency
    explanation: str | None
    probes: tuple[ReportProbe, ...]

    @property
    def services(self) -> list[str]:
        """The services of the group, each once, in order."""
        return list(dict.fromkeys(p.service for p in self.probes))

    def latency(self) -> str:
        """The latency range of the group in seconds (`0.15 s` or `0.94-1.33 s`)."""
        values = [p.latency_ms / 1000 for p in self.probes]
        low, high = min(values), max(values)
        return f"{low:.2f} s" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f} s"


def probe_groups(probes: list[ReportProbe]) -> list[ProbeGroup]:
    """Failing groups first, the largest first; then passing ones."""
    groups: dict[tuple[bool, str, str, int | None, str, str | None], list[ReportProbe]] = {}
    for probe in probes:
        # The explanation names the finding behind the answer: probes explained by different findings differ,
        # unless those differ only by the service they name (a revision per service, failing alike).
        detail = _LATENCY.sub("", probe.detail)
        explained = _unnamed(probe.explanation, {probe.service}) if probe.explanation else None
        key = (probe.ok, probe.path, probe.outcome, probe.status, detail, explained)
        groups.setdefault(key, []).append(probe)
    made = []
    for found in groups.values():
        alike = tuple(sorted(found, key=lambda p: p.service))
        first = alike[0]
        made.append(
            ProbeGroup(
                first.ok,
                first.path,
                first.outcome,
                first.status,
                _LATENCY.sub("", first.detail),
                first.explanation,
                alike,
            )
        )
    return sorted(made, key=lambda g: (g.ok, -len(g.probes), g.outcome, g.detail))


def folded_list(names: list[str], shown: int) -> str:
    """`a, b, c` or, past `shown` names, `a, b, ... and N more`."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])}, ... and {len(names) - shown} more"


def folded_text(text: str, limit: int = LONG_TEXT) -> str:
    """`text`, or its first `limit` characters and how many more the JSON report holds."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... (+{len(text) - limit} characters in --format json)"


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one cause and priority whose words differ only by the service or resource they name:
    one headline, the first as the example, every service."""

    findings: tuple[ReportFinding, ...]

    @property
    def first(self) -> ReportFinding:
        """The example shown in full."""
        return self.findings[0]

    @property
    def services(self) -> list[str]:
        """Every affected service of the group, each once."""
        return list(dict.fromkeys(s for f in self.findings for s in f.affected_services))

    @property
    def more_alike(self) -> str:
        """` (and N more alike)`, said after the example when the group holds N more findings; else empty."""
        more = len(self.findings) - 1
        return f" (and {more} more alike)" if more else ""

    @property
    def title(self) -> str:
        """The example's title and how many more findings alike the group holds."""
        return self.first.title + self.more_alike


_WORDS = re.compile(r"[\w.-]+|[^\w.-]+")


def _unnamed(text: str, names: set[str]) -> str:
    """`text` with each word that is one of `names` (a service, a resource's short name) replaced by one
    placeholder. Words run over letters, digits, `-`, `_` and `.`, as resource names do."""
    return "".join("\x00" if word in names else word for word in _WORDS.findall(text))


def _shape(finding: ReportFinding) -> str:
    names = {*finding.affected_services, *(r.rsplit("/", 1)[-1] for r in finding.resources)}
    return _unnamed(finding.title, names)


GROUP_AT = 3  # findings alike before they are folded into one: two are still read one by one


def finding_groups(findings: list[ReportFinding]) -> list[FindingGroup]:
    """Findings in report order, those alike (same cause, priority, suppression and title once service and
    resource names are set aside) folded into the group of the first of them when there are `GROUP_AT` or
    more; fewer stay groups of one."""
    groups: dict[tuple[str, str, bool, str], list[ReportFinding]] = {}
    keys = [(f.cause, f.priority, f.suppressed is not None, _shape(f)) for f in findings]
    for finding, key in zip(findings, keys, strict=True):
        groups.setdefault(key, []).append(finding)
    made: list[FindingGroup] = []
    for finding, key in zip(findings, keys, strict=True):
        found = groups[key]
        if len(found) >= GROUP_AT:
            if finding is found[0]:
                made.append(FindingGroup(tuple(found)))
        else:
            made.append(FindingGroup((finding,)))
    return made


def lead_group(groups: list[FindingGroup]) -> FindingGroup | None:
    """The group a view opens with, as the answer: the first (most urgent) that is not suppressed; None when
    there is none."""
    return next((g for g in groups if g.first.suppressed is None), None)


def probe_lines(probes: list[ReportProbe]) -> set[str]:
    """What a probe evidence line says when it only repeats the probes section: `service path -> detail`."""
    return {f"{p.service} {p.path} -> {p.detail}" for p in probes}


def repeats_probes(evidence: ReportEvidence, lines: set[str]) -> bool:
    """Whether `evidence` is a probe line that says no more than the probes section (one of `lines`, as
    `probe_lines` gives them): views count such lines instead of repeating them."""
    return evidence.source == "probe" and evidence.detail in lines


def explanation_after(detail: str, explanation: str) -> str:
    """The explanation of a probe's answer as it reads after its detail: `503 from the Google Front End: X;
    here because Y` becomes `X; here because Y` when the detail already says who answered."""
    said_by, _, meaning = explanation.partition(": ")
    return meaning if meaning and said_by.split(" ", 1)[-1] in detail else explanation


REPEATED = 120  # characters from which a piece of outside text printed before is pointed to, not repeated
# Where an API message sits inside a sentence of ours: after "...: ", "...; ", or in parentheses.
_PIECES = re.compile(r"(: |; | \(|\) |\)$)")
POINTER = "(the message above)"
_POINTERS = re.compile(rf"{re.escape(POINTER)}(?:(?:: |; ){re.escape(POINTER)})+")


class Repeats:
    """Long messages from outside (a Cloud Run condition quoted in a why, its evidence and the fix) shown
    once: the first time whole (folded past `LONG_TEXT`), then as a pointer to it."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def once(self, text: str) -> str:
        """`text` with every long piece already shown replaced by `(the message above)`."""
        out: list[str] = []
        for piece in _PIECES.split(text):
            if len(piece) >= REPEATED:
                if piece in self._seen:
                    out.append(POINTER)
                    continue
                self._seen.add(piece)
            out.append(piece)
        # A message split at its own colons shows as one pointer, parentheses included.
        text = _POINTERS.sub(POINTER, "".join(out)).replace(f"({POINTER})", POINTER)
        return folded_text(text)


def alike_steps(groups: list[FindingGroup], steps: list[ReportPlanStep]) -> list[list[ReportPlanStep]]:
    """Steps in order, those resolving findings of one folded group (a fix per service, alike) together."""
    group_of = {
        f.id: number for number, group in enumerate(groups) if len(group.findings) > 1 for f in group.findings
    }
    made: list[list[ReportPlanStep]] = []
    index: dict[int, list[ReportPlanStep]] = {}
    for step in steps:
        owners = {group_of.get(f) for f in step.findings}
        key = owners.pop() if len(owners) == 1 else None
        if key is None:
            made.append([step])
        elif key in index:
            index[key].append(step)
        else:
            index[key] = [step]
            made.append(index[key])
    return made
