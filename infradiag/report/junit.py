"""The JUnit XML view, for CI test reports: a testcase per probed service, per finding and per unknown.

Layout (the de facto schema CI systems read, as written by Ant and Maven Surefire):

- suite `infradiag.probes`: a service fails when any of its health probes fails; the failure's text is the
  evidence of every probe (URL, status, outcome, phases, detail).
- suite `infradiag.findings`: a finding at or above `--fail-on` fails with its whole chain of whys, evidence
  and fix; a suppressed finding is skipped with its reason; one below the threshold passes, with its chain
  in system-out.
- suite `infradiag.unknowns`: evidence that could not be gathered is an error, with the fix.
- when no verdict was reached at all (a gate's deadline passed), suite `infradiag.gate` holds one error.

Every testsuite, and the testsuites root, carries tests, failures, errors, skipped and time.

Text is kept exactly wherever XML 1.0 can carry it (a parser gives back the same string, carriage returns
included); the characters it cannot carry at all (NUL and most C0 controls, lone surrogates, U+FFFE, U+FFFF)
are written as visible escapes such as `\\x00`, as the terminal shows them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from infradiag.errors import UsageError
from infradiag.priority import PRIORITY_ORDER
from infradiag.report.fixtext import change_text, risks_text
from infradiag.report.literal import visible
from infradiag.report.model import NO_URL, NO_URL_DETAIL, ReportFinding, ReportProbe, TriageReport

# Characters XML 1.0 cannot carry at all (https://www.w3.org/TR/xml/#charsets); a probe body may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(value: str) -> str:
    return _NOT_XML.sub(lambda match: visible(match.group(0)), value)


@dataclass
class _Case:
    name: str
    seconds: float = 0.0
    result: tuple[str, str, str, str] | None = None  # (tag, message, type, text)
    stdout: str = ""


@dataclass
class _Suite:
    name: str
    cases: list[_Case] = field(default_factory=list)

    def count(self, tag: str) -> int:
        return sum(1 for c in self.cases if c.result is not None and c.result[0] == tag)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.cases)


def _probe_lines(p: ReportProbe) -> str:
    phases = ", ".join(
        f"{k} {v:.1f} ms" for k, v in p.phases.model_dump(by_alias=True).items() if v is not None
    )
    return (
        f"GET {p.url}\n  outcome: {p.outcome}\n  status: {p.status or '-'}\n"
        f"  latency: {p.latency_ms:.1f} ms ({phases or 'no phase timings'})\n  detail: {p.detail}"
    )


def _probes(report: TriageReport) -> _Suite:
    suite = _Suite("infradiag.probes")
    by_service: dict[str, list[ReportProbe]] = {}
    for probe in report.probes:
        by_service.setdefault(probe.service, []).append(probe)
    for service, probes in by_service.items():
        case = _Case(service, seconds=max(p.latency_ms for p in probes) / 1000)
        failing = [p for p in probes if not p.ok]
        if failing:
            first = failing[0]
            message = f"{service} {first.path} -> {first.detail or first.outcome}"
            case.result = ("failure", message, first.outcome, "\n".join(_probe_lines(p) for p in probes))
        else:
            case.stdout = "\n".join(_probe_lines(p) for p in probes)
        suite.cases.append(case)
    for service in report.services_without_url or []:
        message = f"{service}: {NO_URL_DETAIL}"
        suite.cases.append(_Case(service, result=("failure", message, NO_URL, NO_URL_DETAIL)))
    return suite


def _chain(f: ReportFinding) -> str:
    lines = [
        f"{f.priority} {f.cause}: {f.title}",
        f"resources: {', '.join(f.resources)}",
        f"affected services ({len(f.affected_services)}): {', '.join(f.affected_services)}",
    ]
    for number, why in enumerate(f.why, 1):
        lines.append(f"why {number}: {why.question} -> {why.answer}")
        lines += [f"  [{e.source}] {e.detail}" for e in why.evidence]
    fix = f.remediation
    lines.append(f"fix: {fix.summary}")
    lines += [f"  change {change_text(c)}" for c in fix.changes or []]
    if fix.risks:
        lines.append(f"  risks: {risks_text(fix.risks)}")
    if fix.way_back:
        lines.append(f"  way back: {fix.way_back}")
    if fix.verification is not None:  # only with `triage --verify-fixes`
        lines.append(f"  on the twin: {fix.verification.detail}")
    lines += [f"  $ {command}" for command in fix.commands]
    if fix.terraform and "\n" in fix.terraform:
        lines.append("  terraform:")
        lines += [f"    {line}" for line in fix.terraform.split("\n")]
    elif fix.terraform:
        lines.append(f"  terraform: {fix.terraform}")
    return "\n".join(lines)


def _findings(report: TriageReport, fail_on: str) -> _Suite:
    suite = _Suite("infradiag.findings")
    for f in report.findings:
        case = _Case(f"{f.priority} {f.cause}: {f.title}")
        if f.suppressed is not None:
            s = f.suppressed
            message = f"suppressed until {s.expires.isoformat()} ({s.source}): {s.reason}"
            case.result = ("skipped", message, "", "")
            case.stdout = _chain(f)
        elif PRIORITY_ORDER[f.priority] <= PRIORITY_ORDER[fail_on]:
            case.result = ("failure", f.title, f.cause, _chain(f))
        else:
            case.stdout = f"below the --fail-on {fail_on} threshold\n{_chain(f)}"
        suite.cases.append(case)
    return suite


def _unknowns(report: TriageReport) -> _Suite:
    suite = _Suite("infradiag.unknowns")
    for u in report.unknowns:
        text = f"{u.consequence}\nfix: {u.fix}" + (f"\ndetail: {u.detail}" if u.detail else "")
        suite.cases.append(_Case(f"{u.source}: {u.reason}", result=("error", u.consequence, u.reason, text)))
    return suite


def _element(suites: list[_Suite], name: str, timestamp: str | None) -> ET.Element:
    root = ET.Element("testsuites", name=_clean(name))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        counts = {
            "tests": len(suite.cases),
            "failures": suite.count("failure"),
            "errors": suite.count("error"),
            "skipped": suite.count("skipped"),
        }
        attributes = {k: str(v) for k, v in counts.items()} | {"time": f"{suite.seconds:.3f}"}
        if timestamp:
            attributes["timestamp"] = timestamp
        node = ET.SubElement(root, "testsuite", {"name": suite.name, **attributes})
        for case in suite.cases:
            child = ET.SubElement(
                node, "testcase", classname=suite.name, name=_clean(case.name), time=f"{case.seconds:.3f}"
            )
            if case.result is not None:
                tag, message, kind, text = case.result
                result = ET.SubElement(child, tag, message=_clean(message))
                if kind:
                    result.set("type", _clean(kind))
                result.text = _clean(text) or None
            if case.stdout:
                ET.SubElement(child, "system-out").text = _clean(case.stdout)
        for key, value in counts.items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{sum(s.seconds for s in suites):.3f}")
    return root


def junit_xml(report: TriageReport | None, fail_on: str, environment: str, problem: str = "") -> bytes:
    """JUnit XML of a report judged against `fail_on`; without a report, one error saying `problem`."""
    if report is None:
        suite = _Suite("infradiag.gate")
        suite.cases.append(_Case(f"{environment} judged", result=("error", problem, "no_verdict", problem)))
        root = _element([suite], f"infradiag {environment}", None)
    else:
        suites = [_probes(report), _findings(report, fail_on), _unknowns(report)]
        stamp = f"{report.started_at:%Y-%m-%dT%H:%M:%S}"
        root = _element(suites, f"infradiag {report.environment}", stamp)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    # ElementTree writes a carriage return in text as is, and every XML parser reads it back as a newline;
    # attributes already have it as a reference, so the only raw ones are in text.
    return data.replace(b"\r", b"&#13;") + b"\n"


def write_junit(
    path: Path, report: TriageReport | None, fail_on: str, environment: str, problem: str = ""
) -> None:
    """Write `junit_xml(...)` to `path`, creating its folder; an unwritable path is a UsageError."""
    data = junit_xml(report, fail_on, environment, problem)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise UsageError(
            "--junit", f"cannot write {path} ({exc.strerror})", "pass a writable file path"
        ) from None
