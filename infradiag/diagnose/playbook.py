"""Playbooks: five-whys trees as YAML data under infradiag/playbooks/, validated and compiled at load.

A playbook walks each item of `for_each` (e.g. every connector) down its tree. A node asks a question,
holds when its CEL `when` is true, answers, and cites evidence; a node with a `cause` is a root cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from infradiag.cel import CelCompileError, Expression, Template
from infradiag.diagnose.context import names_in_scope
from infradiag.diagnose.parsed_cache import ParsedCache, text_key
from infradiag.diagnose.playbook_functions import PLAYBOOK_CEL
from infradiag.errors import UsageError
from infradiag.fixes import Risk, method_of
from infradiag.inputfile import read_text
from infradiag.priority import Priority

if TYPE_CHECKING:
    from infradiag.yamlfile import Loc, YamlDocument

# The playbooks ship inside the package (in the wheel too). infradiag is never installed zipped, so the
# resource is a real directory and a Path.
PLAYBOOK_DIR = Path(str(files("infradiag") / "playbooks"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EvidenceSpec(_Model):
    source: str
    detail: str  # template; with `each`, `it` is the current item
    each: str | None = None  # CEL list
    when: str | None = None


class PriorityRule(_Model):
    level: Priority
    when: str | None = None  # absent: always


# Risks that leave the resource other than it was in a way one cannot simply re-run the command to undo: a
# fix carrying one says how to go back (remediation or field `way_back`). costs_more alone needs none.
NEEDS_WAY_BACK = frozenset(
    {Risk.RESTARTS, Risk.DROPS_TRAFFIC, Risk.IRREVERSIBLE, Risk.WIDENS_EXPOSURE, Risk.ONLY_UP_IN_PLACE}
)


class FieldSpec(_Model):
    """One field of a change: CEL for its value now and the value proposed, a template for why that value;
    the risks of changing it and the way back, which count only when it does change."""

    current: str
    proposed: str
    why: str
    risks: list[Risk] = Field(default_factory=list)
    way_back: str | None = None  # template


class ChangeSpec(_Model):
    """A remediation as one API request (infradiag/fixes): Google's method and field names, values in CEL."""

    api: str
    method: str
    resource: str  # CEL string: the full resource name
    fields: dict[str, FieldSpec]
    # CEL per current setting the renderings need (Terraform's identifying attributes); null: not set.
    context: dict[str, str] = Field(default_factory=dict)
    unchanged: str  # template: the remediation's summary when no field would change

    def problem(self) -> tuple[Loc, str] | None:
        """Where in this change (relative location) an api, method, field or context name is not one
        infradiag renders, and why; None when every one is."""
        try:
            spec = method_of(self.api, self.method)
        except ValueError as error:
            return ("method",), str(error)
        for name in self.fields:
            if name not in spec.fields:
                sets = ", ".join(sorted(spec.fields))
                return ("fields", name), f"{self.api} {self.method} cannot set {name} (it sets {sets})"
        for name in self.context:
            if name not in spec.context:
                reads = ", ".join(sorted(spec.context))
                return ("context", name), f"{self.api} {self.method} has no context {name} (it reads {reads})"
        if not self.fields:
            return ("fields",), "a change needs at least one field"
        return None


class Remediation(_Model):
    """A finding's Fix as a playbook writes it: its texts are `{cel}` templates the engine renders. With a
    `change`, the command and the Terraform block are rendered from it."""

    summary: str
    commands: list[str] = Field(default_factory=list)
    terraform: str | None = None
    docs: str | None = None
    risks: list[Risk] = Field(default_factory=list)
    way_back: str | None = None  # template
    change: ChangeSpec | None = None

    @model_validator(mode="after")
    def _rendered_or_written(self) -> Remediation:
        if self.change is not None and self.terraform is not None:
            raise ValueError(
                "a remediation with a `change` gets its Terraform block from it: remove `terraform`"
            )
        if self.way_back is None:
            risky = [str(r) for r in sorted(NEEDS_WAY_BACK.intersection(self.risks))]
            for name, field in (self.change.fields if self.change else {}).items():
                if field.way_back is None:
                    risky += [f"{r} ({name})" for r in sorted(NEEDS_WAY_BACK.intersection(field.risks))]
            if risky:
                raise ValueError(f"risks {', '.join(risky)} need a `way_back`: say how to undo the fix")
        return self


class Node(_Model):
    question: str
    when: str = "true"
    answer: str
    evidence: list[EvidenceSpec] = Field(default_factory=list)
    then: list[Node] = Field(default_factory=list)
    # A root cause (leaf):
    cause: str | None = None
    title: str | None = None
    resource: str | None = None  # CEL string
    affected: str | None = None  # CEL list of service names
    priority: list[PriorityRule] = Field(default_factory=list)
    confidence: float = Field(0.8, ge=0, le=1)
    remediation: Remediation | None = None
    # The cause is read from a symptom (slow answers, timeouts) that other causes produce too: a more
    # urgent root cause covering the same services cites it instead of the plan listing it.
    symptom: bool = False

    @model_validator(mode="after")
    def _leaf_or_branch(self) -> Node:
        if self.cause is None and not self.then:
            raise ValueError("a node needs `then` (children) or `cause` (a root cause)")
        if self.cause is not None:
            missing = [
                k for k in ("title", "resource", "affected", "remediation") if getattr(self, k) is None
            ]
            if missing or not self.priority:
                raise ValueError(
                    f"a cause node needs {', '.join([*missing, 'priority'][: len(missing) or 1])}"
                )
        return self


class Playbook(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    description: str = ""
    for_each: str = "[{}]"  # CEL list; each item is bound to `as`
    as_: str = Field("item", alias="as", pattern=r"^[a-z_][a-z0-9_]*$")
    let: dict[str, str] = Field(default_factory=dict)  # evaluated in order, each sees the ones before
    # primary: root causes from evidence. fallback: after primary, sees `explained` (services a finding
    # already covers). review: last, sees `findings` (e.g. an alert gap for what was found).
    stage: Literal["primary", "fallback", "review"] = "primary"
    tree: Node

    path: Path = Path("<memory>")
    _compiled: dict[str, Expression | Template] = PrivateAttr(default_factory=dict)

    def compiled_forms(self) -> Mapping[str, Expression | Template]:
        """Every compiled form, by `e:SOURCE` (expressions) and `t:SOURCE` (templates)."""
        return self._compiled


def _cel_fields(playbook: Playbook) -> list[tuple[Loc, str, bool]]:
    """Every (location, source, is_template) of the playbook, for compiling and linting."""
    found: list[tuple[Loc, str, bool]] = [(("for_each",), playbook.for_each, False)]
    found += [(("let", name), source, False) for name, source in playbook.let.items()]

    def walk(node: Node, loc: Loc) -> None:
        found.extend([((*loc, "question"), node.question, True), ((*loc, "answer"), node.answer, True)])
        found.append(((*loc, "when"), node.when, False))
        for i, spec in enumerate(node.evidence):
            found.append(((*loc, "evidence", i, "detail"), spec.detail, True))
            found.extend(
                ((*loc, "evidence", i, k), v, False)
                for k, v in (("each", spec.each), ("when", spec.when))
                if v
            )
        for key in ("resource", "affected"):
            if getattr(node, key):
                found.append(((*loc, key), getattr(node, key), False))
        if node.title:
            found.append(((*loc, "title"), node.title, True))
        for i, rule in enumerate(node.priority):
            if rule.when:
                found.append(((*loc, "priority", i, "when"), rule.when, False))
        if node.remediation:
            r = node.remediation
            found.append(((*loc, "remediation", "summary"), r.summary, True))
            found.extend(((*loc, "remediation", "commands", i), c, True) for i, c in enumerate(r.commands))
            if r.terraform:
                found.append(((*loc, "remediation", "terraform"), r.terraform, True))
            if r.way_back:
                found.append(((*loc, "remediation", "way_back"), r.way_back, True))
            if r.change:
                at = (*loc, "remediation", "change")
                found.append(((*at, "resource"), r.change.resource, False))
                found.append(((*at, "unchanged"), r.change.unchanged, True))
                for name, value in r.change.fields.items():
                    found.append(((*at, "fields", name, "current"), value.current, False))
                    found.append(((*at, "fields", name, "proposed"), value.proposed, False))
                    found.append(((*at, "fields", name, "why"), value.why, True))
                    if value.way_back:
                        found.append(((*at, "fields", name, "way_back"), value.way_back, True))
                found.extend(
                    ((*at, "context", name), source, False) for name, source in r.change.context.items()
                )
        for i, child in enumerate(node.then):
            walk(child, (*loc, "then", i))

    walk(playbook.tree, ("tree",))
    return found


def _check_changes(node: Node, loc: Loc, doc: _Where) -> None:
    remediation = node.remediation
    if remediation is not None and remediation.change is not None:
        found = remediation.change.problem()
        if found is not None:
            where, message = found
            at = (*loc, "remediation", "change", *where)
            raise UsageError(
                doc.where(at),
                f"{'.'.join(map(str, at))}: {message}",
                "see infradiag/playbooks/README.md (Fixes as changes)",
            )
    for i, child in enumerate(node.then):
        _check_changes(child, (*loc, "then", i), doc)


def evidence_spec_at(playbook: Playbook, loc: Loc) -> EvidenceSpec | None:
    """The evidence entry a location inside the tree points into, or None outside any evidence entry."""
    node: Node = playbook.tree
    for step, key in zip(loc[1::2], loc[2::2], strict=False):
        if step == "then":
            node = node.then[int(key)]
        elif step == "evidence":
            return node.evidence[int(key)]
    return None


def _compile(playbook: Playbook, doc: _Where) -> None:
    known = names_in_scope(playbook.stage) | set(playbook.let) | {playbook.as_}
    kept = playbook._compiled  # a private attribute: each read goes through pydantic's __getattr__
    for loc, source, is_template in _cel_fields(playbook):
        try:
            compiled = (
                PLAYBOOK_CEL.compile_template(source)
                if is_template
                else PLAYBOOK_CEL.compile_expression(source)
            )
        except CelCompileError as exc:
            place = ".".join(map(str, loc))
            raise UsageError(doc.where(loc), f"invalid CEL in {place}: {exc}", "fix the expression") from None
        # Almost every expression reads only names in scope everywhere: the exceptions below (`it`, the
        # loop variable at the root) are worked out for the few that do not, not for all 1700 (issue 16).
        if not compiled.free <= known or loc == ("for_each",):
            allowed = set(known)
            spec = evidence_spec_at(playbook, loc) if loc[-1] == "detail" else None
            if spec is not None and spec.each:
                allowed.add("it")  # the current item of the evidence list, bound in `detail` only
            if loc == ("for_each",):
                allowed.discard(playbook.as_)  # the loop variable is bound only below the root
            for name in sorted(compiled.free - allowed):
                place = ".".join(map(str, loc))
                raise UsageError(
                    doc.where(loc),
                    f"{place} reads `{name}`, which is not defined there",
                    _did_you_mean(name, allowed),
                )
        if (
            loc[-1] == "when"
            and isinstance(compiled, Expression)
            and compiled.result_type not in (None, "bool")
        ):
            place = ".".join(map(str, loc))
            raise UsageError(
                doc.where(loc),
                f"{place} is never true or false: it gives {compiled.result_type}",
                "write a condition, e.g. a comparison",
            )
        kept[f"{'t' if is_template else 'e'}:{source}"] = compiled


def _did_you_mean(name: str, known: frozenset[str] | set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        return f"did you mean `{close[0]}`? (infradiag/playbooks/README.md lists what expressions see)"
    return "use a name infradiag/playbooks/README.md lists, a `let`, or the `as` variable"


class _Where(Protocol):
    def where(self, loc: Loc) -> str: ...


class _ParsedBefore:
    """A playbook text parsed in an earlier start (parsed_cache): its data, and the lines of its keys for an
    error, which only then parses the text again."""

    def __init__(self, path: Path, text: str, data: dict[str, object]) -> None:
        self.path = path
        self.text = text
        self.data = data

    def where(self, loc: Loc) -> str:
        """`file:line` of `loc`, as YamlDocument.where gives it."""
        from infradiag.yamlfile import load_yaml

        return load_yaml(self.path, "playbook", self.text).where(loc)


# One per process: load_playbooks saves what this start parsed, for the next one.
_PARSED = ParsedCache()


def _document(path: Path) -> tuple[YamlDocument | _ParsedBefore, str | None]:
    """The playbook file, read once: parsed, or as an earlier start parsed the same text; and the key to keep
    a fresh parse under (None when it was kept already)."""
    text = read_text(path, "playbook")
    key = text_key(text)
    data = _PARSED.get(key)
    if isinstance(data, dict):
        return _ParsedBefore(path, text, data), None
    from infradiag.yamlfile import load_yaml  # PyYAML is loaded only when a playbook must be parsed

    return load_yaml(path, "playbook", text), key


def load_playbook(path: Path) -> Playbook:
    """Parse, validate and compile one playbook; problems are UsageErrors with file and line."""
    doc, fresh = _document(path)
    if not isinstance(doc.data, dict):
        raise UsageError(
            f"{path}:1",
            "a playbook is a YAML mapping",
            "start from `infradiag playbooks show vpc-connector-saturation`",
        )
    try:
        playbook = Playbook.model_validate({**doc.data, "path": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc: Loc = tuple(first["loc"])
        place = ".".join(str(p) for p in loc) or "(top level)"
        fix = (
            "remove it or correct its spelling"
            if first["type"] == "extra_forbidden"
            else "see infradiag/playbooks/README.md"
        )
        raise UsageError(
            doc.where(loc), f"{place}: {first['msg'].removeprefix('Value error, ')}", fix
        ) from None
    _check_changes(playbook.tree, ("tree",), doc)
    _compile(playbook, doc)
    if fresh is not None:
        _PARSED.put(fresh, doc.data)  # it loaded in full: the next start may skip parsing it
    return playbook


def load_playbooks(directory: Path = PLAYBOOK_DIR) -> list[Playbook]:
    """Every `*.yaml` playbook of a directory, sorted by file name; duplicate ids are an error."""
    if not directory.is_dir():
        raise UsageError(str(directory), "playbook directory not found", "pass --playbooks DIR")
    paths = sorted(directory.glob("*.yaml"))
    if not paths:  # no playbook would find nothing wrong, and a triage would pass unexamined
        raise UsageError(str(directory), "no playbook (*.yaml) in this directory", "pass --playbooks DIR")
    playbooks: list[Playbook] = []
    seen: dict[str, Path] = {}
    for path in paths:
        playbook = load_playbook(path)
        if playbook.id in seen:
            raise UsageError(
                f"{path}:1", f"playbook id {playbook.id!r} is also used by {seen[playbook.id]}", "rename one"
            )
        seen[playbook.id] = path
        playbooks.append(playbook)
    PLAYBOOK_CEL.remember()  # the next start need not parse what evaluations do not reach
    _PARSED.save()  # nor the playbook files that did not change
    return playbooks


def causes_of(node: Node) -> list[str]:
    """Every cause id a tree can conclude, in tree order."""
    found = [node.cause] if node.cause else []
    for child in node.then:
        found += [c for c in causes_of(child) if c not in found]
    return found


def expression_in(forms: Mapping[str, Expression | Template], source: str) -> Expression:
    """The compiled form of the CEL source `source` among a playbook's compiled_forms()."""
    compiled = forms[f"e:{source}"]
    assert isinstance(compiled, Expression)
    return compiled


def template_in(forms: Mapping[str, Expression | Template], source: str) -> Template:
    """The compiled form of the template `source` among a playbook's compiled_forms()."""
    compiled = forms[f"t:{source}"]
    assert isinstance(compiled, Template)
    return compiled
