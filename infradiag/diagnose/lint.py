"""`infradiag playbooks lint`: every CEL compiles, every evidence field exists, every cause is in the
catalog, and no tree refers back to itself. Each problem is one line naming file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lark import Token, Tree

from infradiag.cel import MACROS
from infradiag.cel.parser_cache import cel_environment
from infradiag.diagnose.catalog import CAUSES
from infradiag.diagnose.context import OTHER, ValueType, root_types, value_type
from infradiag.diagnose.playbook import Node, Playbook, _cel_fields, evidence_spec_at, load_playbook
from infradiag.diagnose.playbook_functions import PLAYBOOK_CEL
from infradiag.errors import UsageError
from infradiag.yamlfile import Loc, YamlDocument, load_yaml

_MACROS = MACROS - {"has"}
# The CEL standard functions infradiag evaluates, plus the playbook helpers.
KNOWN_FUNCTIONS = set(PLAYBOOK_CEL.functions) | {"has"}


class _Lines:
    """`file:line` of a playbook's keys. The file is parsed for them the first time a problem needs one:
    load_playbook has read and parsed it already, so a sound playbook is not parsed again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._doc: YamlDocument | None = None

    def where(self, loc: Loc) -> str:
        if self._doc is None:
            self._doc = load_yaml(self.path, "playbook")
        return self._doc.where(loc)


class _Checker:
    def __init__(self, problems: list[str], lines: _Lines) -> None:
        self.problems = problems
        self.lines = lines
        self.loc: Loc = ()  # of the expression being checked

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.lines.where(self.loc)}: {text}")

    def field(self, base: ValueType, name: str) -> ValueType:
        if base.kind != "model" or base.model is None:
            return OTHER
        fields = base.model.model_fields
        if name not in fields:
            known = ", ".join(sorted(fields))
            self.problem(f"{base.model.__name__} has no field `{name}` (fix: one of {known})")
            return OTHER
        return value_type(fields[name].annotation)

    def infer(self, tree: Any, env: dict[str, ValueType]) -> ValueType:
        if isinstance(tree, Token) or not isinstance(tree, Tree):
            return OTHER
        rule, kids = tree.data, tree.children
        if rule == "ident":
            return env.get(str(kids[0]), OTHER)
        if rule == "member_dot":
            return self.field(self.infer(kids[0], env), str(kids[1]))
        if rule == "member_index":
            base = self.infer(kids[0], env)
            self.infer(kids[1], env)
            return base.item if base.kind in ("list", "map") and base.item else OTHER
        if rule == "member_dot_arg":
            return self._method(kids, env)
        if rule == "ident_arg" and str(kids[0]) not in KNOWN_FUNCTIONS:
            self.problem(f"unknown function `{kids[0]}` (fix: one of {', '.join(sorted(KNOWN_FUNCTIONS))})")
        types_of = [self.infer(kid, env) for kid in kids]
        if len(kids) == 1:
            return types_of[0]
        if rule == "expr" and len(kids) == 3:  # a ? b : c
            return types_of[1] if types_of[1] is not OTHER else types_of[2]
        return OTHER

    def _method(self, kids: list[Any], env: dict[str, ValueType]) -> ValueType:
        base = self.infer(kids[0], env)
        method = str(kids[1])
        args = kids[2].children if len(kids) > 2 and isinstance(kids[2], Tree) else []
        if method in _MACROS and len(args) == 2:
            variable = _identifier(args[0])
            item = base.item if base.kind in ("list", "map") and base.item else OTHER
            if base.kind == "map":
                item = OTHER  # macros over a map range over its keys
            result = self.infer(args[1], {**env, variable: item} if variable else env)
            if method == "filter":
                return base
            return ValueType("list", item=result) if method == "map" else OTHER
        for arg in args:
            self.infer(arg, env)
        return OTHER


def _identifier(tree: Any) -> str | None:
    while isinstance(tree, Tree):
        if tree.data == "ident":
            return str(tree.children[0])
        if len(tree.children) != 1:
            return None
        tree = tree.children[0]
    return None


def _placeholders(source: str, is_template: bool) -> list[str]:
    if not is_template:
        return [source]
    return [part.source for part in PLAYBOOK_CEL.compile_template(source).parts if not isinstance(part, str)]


def lint_playbook(path: Path) -> list[str]:
    """Every problem of one playbook file, each `file:line: what (fix)`; empty when it is sound."""
    return _lint(path)[1]


def _lint(path: Path) -> tuple[Playbook | None, list[str]]:
    """The playbook (None when it does not load) and its problems."""
    try:
        playbook = load_playbook(path)
    except UsageError as error:
        return None, [error.one_line()]
    lines = _Lines(path)
    problems: list[str] = []
    env = dict(root_types())
    checker = _Checker(problems, lines)

    def check(loc: Loc, source: str, is_template: bool, scope: dict[str, ValueType]) -> ValueType:
        checker.loc = loc
        result = OTHER
        for expression in _placeholders(source, is_template):
            result = checker.infer(cel_environment().compile(expression), scope)
        return result

    items = check(("for_each",), playbook.for_each, False, env)
    env[playbook.as_] = items.item if items.kind == "list" and items.item else OTHER
    for name, source in playbook.let.items():
        env[name] = check(("let", name), source, False, env)
    for loc, source, is_template in _cel_fields(playbook):
        if loc[0] in ("for_each", "let"):
            continue
        scope = env
        if "evidence" in loc and loc[-1] == "detail":
            spec = evidence_spec_at(playbook, loc)
            if spec is not None and spec.each:
                each = check((*loc[:-1], "each"), spec.each, False, env)
                scope = {**env, "it": each.item if each.kind == "list" and each.item else OTHER}
        check(loc, source, is_template, scope)
    _check_causes(playbook, lines.where, problems)
    return playbook, problems


def _check_causes(playbook: Playbook, where: Any, problems: list[str]) -> None:
    def walk(node: Node, loc: Loc) -> None:
        if node.cause is not None and node.cause not in CAUSES:
            problems.append(
                f"{where((*loc, 'cause'))}: cause `{node.cause}` is not in the catalog "
                "(fix: use an id of docs/causes.md, see infradiag/diagnose/catalog.py)"
            )
        for index, child in enumerate(node.then):
            walk(child, (*loc, "then", index))

    walk(playbook.tree, ("tree",))


def lint_directory(directory: Path) -> list[str]:
    """Problems of every playbook in `directory`, file by file, plus duplicate ids; a directory without
    playbooks is a problem too (as for a triage), never "0 playbooks OK"."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        return [f"{directory}: no playbook (*.yaml) in this directory (fix: pass --dir DIR)"]
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in paths:
        playbook, found = _lint(path)
        problems += found
        if playbook is not None and not found:
            playbook_id = playbook.id
            if playbook_id in seen:
                problems.append(
                    f"{path}:1: playbook id `{playbook_id}` is also used by {seen[playbook_id]} "
                    "(fix: rename one)"
                )
            seen[playbook_id] = path
    return problems
