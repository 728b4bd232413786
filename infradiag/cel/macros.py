"""CEL's comprehension macros over plain lists and maps: all, exists, exists_one, map and filter (has() is
compiled by infradiag.cel.compiler, being a field test rather than a loop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infradiag.cel.tree import Node
from infradiag.cel.values import Activation, CelError, Compiled, type_name

MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})


def unwrap(tree: Node) -> Node:
    """The innermost node of a chain of single-child wrappers (expr -> ... -> primary -> ident)."""
    while isinstance(tree, Node) and len(tree.children) == 1 and isinstance(tree.children[0], Node):
        tree = tree.children[0]
    return tree


def _range(value: Any, macro: str) -> list[Any]:
    kind = type(value)
    if kind is list or kind is tuple or kind is dict:
        return list(value)
    raise CelError(f"{macro}() ranges over a list or a map, not a {type_name(value)}")


def _predicate(value: Any, macro: str) -> bool:
    if type(value) is not bool:
        raise CelError(f"{macro}(): the condition gave a {type_name(value)}, not a bool")
    return bool(value)


def _quantifier(macro: str, decisive: bool) -> Callable[[str, Compiled, Compiled, Compiled | None], Compiled]:
    """all() (decided by the first false) and exists() (by the first true). Like && and ||, an error on one
    element is overruled when another element decides."""

    def build(var: str, target: Compiled, body: Compiled, keep: Compiled | None) -> Compiled:
        def quantify(env: Activation) -> bool:
            scope, error = dict(env), None
            for item in _range(target(env), macro):
                scope[var] = item
                try:
                    if _predicate(body(scope), macro) is decisive:
                        return decisive
                except CelError as failure:
                    error = error or failure
            if error is not None:
                raise error
            return not decisive

        return quantify

    return build


def _build_exists_one(var: str, target: Compiled, body: Compiled, keep: Compiled | None) -> Compiled:
    def exists_one(env: Activation) -> bool:
        scope, count = dict(env), 0
        for item in _range(target(env), "exists_one"):
            scope[var] = item
            count += _predicate(body(scope), "exists_one")
        return count == 1

    return exists_one


def _build_map(var: str, target: Compiled, body: Compiled, keep: Compiled | None) -> Compiled:
    def map_(env: Activation) -> list[Any]:
        scope, result = dict(env), []
        for item in _range(target(env), "map"):
            scope[var] = item
            if keep is None or _predicate(keep(scope), "map"):
                result.append(body(scope))
        return result

    return map_


def _build_filter(var: str, target: Compiled, body: Compiled, keep: Compiled | None) -> Compiled:
    def filter_(env: Activation) -> list[Any]:
        scope, result = dict(env), []
        for item in _range(target(env), "filter"):
            scope[var] = item
            if _predicate(body(scope), "filter"):
                result.append(item)
        return result

    return filter_


MACRO_BUILDERS: dict[str, Callable[[str, Compiled, Compiled, Compiled | None], Compiled]] = {
    "all": _quantifier("all", decisive=False),
    "exists": _quantifier("exists", decisive=True),
    "exists_one": _build_exists_one,
    "map": _build_map,
    "filter": _build_filter,
}
