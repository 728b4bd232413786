"""What a CEL parse tree (infradiag.cel.tree) says before it is evaluated: the names it reads and the type it
always gives."""

from __future__ import annotations

from typing import Any

from infradiag.cel.macros import MACROS, unwrap
from infradiag.cel.tree import WRAPPERS, Node


def identifiers(ast: Node) -> frozenset[str]:
    """Every identifier `ast` mentions."""
    # Over-approximates (macro variables count too): good enough to know which names to have ready.
    return frozenset(str(tree.children[0]) for tree in ast.subtrees() if tree.data == "ident")


def free_identifiers(ast: Node) -> frozenset[str]:
    """The identifiers `ast` reads from its activation: every `ident` except the variables that the macros
    around it bind (`xs.all(x, x > 0)` reads `xs`, not `x`). CEL's type names count as free too."""
    found: set[str] = set()
    pending: list[tuple[Any, frozenset[str]]] = [(ast, frozenset())]
    while pending:
        tree, bound = pending.pop()
        if not isinstance(tree, Node):
            continue
        if tree.data == "ident":
            name = str(tree.children[0])
            if name not in bound:
                found.add(name)
            continue
        if tree.data == "member_dot_arg" and str(tree.children[1]) in MACROS - {"has"}:
            arguments = tree.children[2].children if len(tree.children) > 2 else []
            variable = unwrap(arguments[0]) if arguments else None
            if variable is not None and variable.data == "ident":
                inner = bound | {str(variable.children[0])}
                pending.append((tree.children[0], bound))
                pending.extend((argument, inner) for argument in arguments[1:])
                continue
        pending.extend((child, bound) for child in tree.children)
    return frozenset(found)


_LITERAL_TYPES = {
    "INT_LIT": "an int",
    "UINT_LIT": "a uint",
    "FLOAT_LIT": "a double",
    "STRING_LIT": "a string",
    "MLSTRING_LIT": "a string",
    "BYTES_LIT": "bytes",
    "BOOL_LIT": "bool",
    "NULL_LIT": "null",
}
_NODE_TYPES = {
    "unary_not": "bool",
    "addition_add": "a sum",
    "addition_sub": "a number",
    "multiplication_mul": "a number",
    "multiplication_div": "a number",
    "multiplication_mod": "a number",
    "unary_neg": "a number",
    "list_lit": "a list",
    "map_lit": "a map",
}
_FUNCTION_TYPES = {
    "has": "bool",
    "size": "an int",
    "int": "an int",
    "uint": "a uint",
    "double": "a double",
    "string": "a string",
}
_METHOD_TYPES = {
    **dict.fromkeys(("startsWith", "endsWith", "contains", "matches", "all", "exists", "exists_one"), "bool"),
    "map": "a list",
    "filter": "a list",
    "size": "an int",
}


def static_type(ast: Node) -> str | None:
    """What `ast` gives whatever the data: "bool", a phrase such as "an int" or "a sum", or None when that
    depends on the data (a field of a JSON body may hold anything). Lets a boolean check be refused at load
    time when it can never be true or false (`body.status + 1`)."""
    tree = ast
    while tree.data in WRAPPERS and len(tree.children) == 1 and isinstance(tree.children[0], Node):
        tree = tree.children[0]
    kind = tree.data
    if kind in ("conditionalor", "conditionaland"):  # a || b, a && b
        return "bool"
    first = tree.children[0] if tree.children else None
    operator = first.data if isinstance(first, Node) else ""
    if len(tree.children) == 2 and (operator.startswith("relation_") or operator in _NODE_TYPES):
        return "bool" if operator.startswith("relation_") else _NODE_TYPES[operator]  # binary or unary
    if kind == "expr" and len(tree.children) == 3:  # a ? b : c
        yes, no = static_type(tree.children[1]), static_type(tree.children[2])
        return yes if yes == no else None
    if kind in _NODE_TYPES:
        return _NODE_TYPES[kind]
    if kind == "literal":
        token = tree.children[0]
        return _LITERAL_TYPES.get(getattr(token, "type", ""))
    if kind == "ident_arg":
        return _FUNCTION_TYPES.get(str(tree.children[0]))
    if kind == "member_dot_arg":
        return _METHOD_TYPES.get(str(tree.children[1]))
    return None
