"""CEL parse trees as infradiag's own plain nodes, and their compact text form for the outline cache.

celpy's parser gives lark trees; compiling and analysing need only each node's rule name and children, and
each token's type and text. Converting right after the parse lets the compiler run without lark and celpy:
a cold start whose expressions' trees were kept (outline_cache) imports neither and parses nothing (issue
16: celpy, lark, its parser tables and the parse cost about 80 ms of a start).
"""

from __future__ import annotations

import json
from typing import Any

# Nodes that only pass on their one child: the compiler and the analysis go straight through them, so the
# text form leaves them out (a literal sits under about ten of them).
WRAPPERS = frozenset(
    {"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication", "unary", "member"}
    | {"primary", "paren_expr"}
)


class Leaf(str):
    """A token: its text (the str itself), its lark type, and for a quoted string literal its value."""

    __slots__ = ("type", "value")

    type: str
    value: str | None

    def __new__(cls, text: str, kind: str, value: str | None = None) -> Leaf:
        leaf = super().__new__(cls, text)
        leaf.type = kind
        leaf.value = value
        return leaf


class Node:
    """A rule of the grammar (`data`, e.g. "member_dot") and its children, nodes or leaves."""

    __slots__ = ("children", "data")

    def __init__(self, data: str, children: list[Any]) -> None:  # Any: Node | Leaf, as lark types them
        self.data = data
        self.children = children

    def __repr__(self) -> str:
        return f"Node({self.data!r}, {self.children!r})"

    def subtrees(self) -> list[Node]:
        """This node and every node below it."""
        found: list[Node] = []
        pending = [self]
        while pending:
            node = pending.pop()
            found.append(node)
            pending.extend(child for child in node.children if isinstance(child, Node))
        return found


def from_lark(tree: Any) -> Node:
    """The lark tree celpy's parser gives, as Nodes and Leaves; a string literal's value is decoded here by
    celpy's own rules (celstr), as the compiler used to at compile time."""
    from celpy.evaluation import celstr
    from lark import Tree

    def convert(item: Any) -> Node | Leaf:
        if isinstance(item, Tree):
            return Node(str(item.data), [convert(child) for child in item.children])
        value = str(celstr(item)) if item.type == "STRING_LIT" else None
        return Leaf(str(item), str(item.type), value)

    converted = convert(tree)
    assert isinstance(converted, Node)
    return converted


def encode(node: Node) -> str:
    """`node` as compact JSON text, without the wrappers that pass on a single node (decode's input)."""

    def plain(item: Node | Leaf) -> Any:
        if isinstance(item, Leaf):
            return ["#" + item.type, str(item)] + ([item.value] if item.value is not None else [])
        while item.data in WRAPPERS and len(item.children) == 1 and isinstance(item.children[0], Node):
            item = item.children[0]
        return [item.data, *(plain(child) for child in item.children)]

    return json.dumps(plain(node), separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> Node:
    """The tree `encode` wrote; ValueError (or TypeError, KeyError) when `text` is not such a tree."""

    def build(item: list[Any]) -> Node | Leaf:
        head = item[0]
        if head.startswith("#"):
            return Leaf(item[1], head[1:], item[2] if len(item) > 2 else None)
        return Node(head, [build(child) for child in item[1:]])

    built = build(json.loads(text))
    if not isinstance(built, Node):
        raise ValueError("not a CEL tree")
    return built
