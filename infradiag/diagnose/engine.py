"""Walks every playbook over the evidence and returns merged findings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from infradiag.cel import CelEvalError, Expression, Template
from infradiag.diagnose.context import FindingSummary
from infradiag.diagnose.findings import Citation, Finding, Fix, Why, merge_findings
from infradiag.diagnose.playbook import Node, Playbook, Remediation, causes_of, expression_in, template_in
from infradiag.diagnose.symptoms import fold_explained
from infradiag.evidence import Evidence, ProbeResult, Unknown
from infradiag.fixes import FieldChange, build_change, gcloud_command, terraform_block

log = logging.getLogger(__name__)


@dataclass
class Diagnosis:
    findings: list[Finding] = field(default_factory=list)
    # Expressions that failed on this evidence: playbook bugs or evidence gaps.
    problems: list[str] = field(default_factory=list)
    # The first failure of each playbook that had one (by playbook id), for the report's unknowns.
    failed: dict[str, tuple[Playbook, str]] = field(default_factory=dict)

    def unknowns(self) -> list[Unknown]:
        """One Unknown per playbook that failed on this evidence: the causes it concludes went unchecked."""
        return [
            Unknown(
                source="playbook",
                reason="EVALUATION_FAILED",
                fix=f"{playbook.path} failed on this evidence; report it with the JSON report attached",
                consequence=f"{', '.join(causes_of(playbook.tree))} could not be checked",
                detail=error,
            )
            for playbook, error in self.failed.values()
        ]


def _worst(probes: list[tuple[ProbeResult, dict[str, Any]]]) -> dict[str, Any]:
    """The plain form of a service's first failing probe, else of its first probe."""
    return next((dumped for probe, dumped in probes if not probe.ok), probes[0][1])


def evidence_context(
    evidence: Evidence, thresholds: dict[str, Any], alerting: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The variables every playbook expression sees, as plain data (see infradiag/playbooks/README.md).

    Fields without a value are left out, so playbooks test presence the CEL way: `has(c.cpu_p95)`.
    """
    data = evidence.model_dump(mode="json", exclude_none=True, exclude={"now"})
    # Each probe's plain form is in `data` already (dumped the same way): no second dump per service.
    by_service: dict[str, list[tuple[ProbeResult, dict[str, Any]]]] = {}
    for probe, dumped in zip(evidence.probes, data["probes"], strict=True):
        by_service.setdefault(probe.service, []).append((probe, dumped))
    worst = {name: _worst(results) for name, results in by_service.items()}
    # Joins built once here, so playbooks look them up instead of filtering every service per item.
    connector_users: dict[str, list[str]] = {}
    for service in evidence.services:
        if service.connector:
            connector_users.setdefault(service.connector, []).append(service.name)
    revisions_of: dict[str, list[dict[str, Any]]] = {}
    for revision in data["revisions"]:
        revisions_of.setdefault(revision["service"], []).append(revision)
    return {
        **data,
        "connector_users": connector_users,
        "revisions_of": revisions_of,
        "probe": worst,
        "svc": {s["name"]: s for s in data["services"]},
        "probed_services": sorted(worst),
        "failing_services": sorted(name for name, p in worst.items() if not p["ok"]),
        "unknown_sources": sorted({u.source for u in evidence.unknowns}),
        "thresholds": thresholds,
        "alerting": alerting or {"notification_channels": []},
        "now": evidence.now.isoformat(),
    }


class _Walk:
    """Walks one playbook. `let` values are computed lazily, the first time an expression mentions them:
    most items fail a cheap root `when`, and then never pay for the rest."""

    def __init__(self, playbook: Playbook, diagnosis: Diagnosis) -> None:
        self.playbook = playbook
        self.diagnosis = diagnosis
        # Read once: each read of a pydantic private attribute goes through the model's __getattr__, and a
        # walk over a fleet looks up thousands of expressions.
        self._forms = playbook.compiled_forms()

    def _expression(self, source: str) -> Expression:
        return expression_in(self._forms, source)

    def _template(self, source: str) -> Template:
        return template_in(self._forms, source)

    def _ready(
        self, names: frozenset[str], activation: dict[str, Any], computing: frozenset[str] = frozenset()
    ) -> None:
        for name in names:
            if name in self.playbook.let and name not in activation and name not in computing:
                expression = self._expression(self.playbook.let[name])
                self._ready(expression.names, activation, computing | {name})
                activation[name] = expression.evaluate(activation)

    def _expression_ready(self, source: str, activation: dict[str, Any]) -> Any:
        expression = self._expression(source)
        self._ready(expression.names, activation)
        return expression

    def _problem(self, error: CelEvalError) -> None:
        self.diagnosis.problems.append(f"{self.playbook.path}: {error}")
        self.diagnosis.failed.setdefault(self.playbook.id, (self.playbook, str(error)))
        log.debug("playbook %s: %s", self.playbook.id, error)

    def holds(self, source: str, activation: dict[str, Any]) -> bool:
        try:
            return bool(self._expression_ready(source, activation).is_true(activation))
        except CelEvalError as error:
            self._problem(error)
            return False

    def value(self, source: str, activation: dict[str, Any]) -> Any:
        return self._expression_ready(source, activation).evaluate(activation)

    def text(self, source: str, activation: dict[str, Any]) -> str:
        template = self._template(source)
        self._ready(template.names, activation)
        return template.render(activation)

    def citations(self, node: Node, activation: dict[str, Any]) -> list[Citation]:
        cited: list[Citation] = []
        for spec in node.evidence:
            if spec.when and not self.holds(spec.when, activation):
                continue
            items = (
                self._expression_ready(spec.each, activation).evaluate(activation) if spec.each else [None]
            )
            self._ready(self._template(spec.detail).names, activation)
            for item in items:
                scope = activation if spec.each is None else {**activation, "it": item}
                cited.append(Citation(source=spec.source, detail=self.text(spec.detail, scope)))
        return cited

    def walk(self, node: Node, activation: dict[str, Any], chain: list[Why]) -> None:
        if not self.holds(node.when, activation):
            return
        try:
            why = Why(
                question=self.text(node.question, activation),
                answer=self.text(node.answer, activation),
                evidence=self.citations(node, activation),
            )
            if node.cause is not None:
                self.diagnosis.findings.append(self.finding(node, activation, [*chain, why]))
        except CelEvalError as error:
            self._problem(error)
            return
        for child in node.then:
            self.walk(child, activation, [*chain, why])

    def finding(self, node: Node, activation: dict[str, Any], chain: list[Why]) -> Finding:
        assert node.cause and node.title and node.resource and node.affected and node.remediation
        level = next(r.level for r in node.priority if r.when is None or self.holds(r.when, activation))
        return Finding(
            cause=node.cause,
            priority=level,
            title=self.text(node.title, activation),
            resource=str(self.value(node.resource, activation)),
            affected_services=[str(s) for s in self.value(node.affected, activation)],
            why=chain,
            remediation=self.fix(node.remediation, activation),
            confidence=node.confidence,
            playbook=self.playbook.id,
            symptom=node.symptom,
        )

    def fix(self, remediation: Remediation, activation: dict[str, Any]) -> Fix:
        """The remediation rendered on this item. With a `change`: the request built from the evidence, its
        command first and its Terraform block; a change that would alter nothing becomes its `unchanged`
        text, with neither command nor risk (nothing is applied)."""
        fix = Fix(
            summary=self.text(remediation.summary, activation),
            commands=[self.text(c, activation) for c in remediation.commands],
            terraform=self.text(remediation.terraform, activation) if remediation.terraform else None,
            docs=remediation.docs,
            risks=list(remediation.risks),
            way_back=self.text(remediation.way_back, activation) if remediation.way_back else None,
        )
        spec = remediation.change
        if spec is None:
            return fix
        fields = [
            FieldChange(
                field=name,
                current=self.value(field.current, activation),
                proposed=self.value(field.proposed, activation),
                why=self.text(field.why, activation),
            )
            for name, field in spec.fields.items()
        ]
        try:
            change = build_change(
                spec.api,
                spec.method,
                str(self.value(spec.resource, activation)),
                fields,
                {name: self.value(source, activation) for name, source in spec.context.items()},
                list(remediation.risks),
            )
        except ValueError as error:
            raise CelEvalError(f"remediation change: {error}") from None
        # A field's risks and way back count only when it changes.
        moved = [spec.fields[item.field] for item in change.changes]
        way_back = [fix.way_back] if fix.way_back else []
        way_back += [self.text(f.way_back, activation) for f in moved if f.way_back]
        change = change.model_copy(
            update={
                "risks": list(dict.fromkeys([*change.risks, *(r for f in moved for r in f.risks)])),
                "way_back": "; ".join(way_back) or None,
            }
        )
        if change.empty:
            return fix.model_copy(
                update={
                    "summary": self.text(spec.unchanged, activation),
                    "commands": [],
                    "risks": [],
                    "way_back": None,
                }
            )
        return fix.model_copy(
            update={
                "commands": [gcloud_command(change), *fix.commands],
                "terraform": terraform_block(change),
                "risks": change.risks,
                "way_back": change.way_back,
                "change": change,
            }
        )

    def run(self, base: dict[str, Any]) -> None:
        try:
            items = self._expression(self.playbook.for_each).evaluate(base)
        except CelEvalError as error:
            self._problem(error)
            return
        for item in items:
            self.walk(self.playbook.tree, {**base, self.playbook.as_: item}, [])


def _finding_data(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{name: getattr(f, name) for name in FindingSummary.model_fields} for f in findings]


def diagnose(
    evidence: Evidence,
    playbooks: list[Playbook],
    thresholds: dict[str, Any],
    alerting: dict[str, Any] | None = None,
) -> Diagnosis:
    """Findings of every playbook, one per cause and resource, without the symptoms a more urgent root
    cause explains (cited under it, symptoms.py). Stages run in order: primary, then fallback (each seeing
    `explained`, the services a finding covers so far), then review (seeing `findings`)."""
    diagnosis = Diagnosis()
    base = evidence_context(evidence, thresholds, alerting)
    for stage in ("primary", "fallback", "review"):
        if stage == "review":
            diagnosis.findings = fold_explained(merge_findings(diagnosis.findings))
            base["findings"] = _finding_data(diagnosis.findings)
        for playbook in (p for p in playbooks if p.stage == stage):
            if stage == "fallback":
                base["explained"] = sorted({s for f in diagnosis.findings for s in f.affected_services})
            _Walk(playbook, diagnosis).run(base)
    diagnosis.findings = merge_findings(diagnosis.findings)
    return diagnosis
