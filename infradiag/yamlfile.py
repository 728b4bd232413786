"""Load YAML while remembering the line of every key, so errors can name file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infradiag.errors import UsageError

Loc = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """A parsed YAML document plus the 1-based line where each path starts."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """Line of `loc`, or of its nearest ancestor that has one (1 for the document)."""
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self.lines:
                return self.lines[loc[:cut]]
        return 1

    def where(self, loc: Loc) -> str:
        """`file:line` for `loc`, ready for an error message."""
        return f"{self.path}:{self.line_of(loc)}"


class _TextTimestampConstructor(yaml.constructor.SafeConstructor):
    """Keeps timestamps as written: Google resources carry RFC 3339 strings, not datetimes."""


_TextTimestampConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str
)
_SCALARS = _TextTimestampConstructor()


def _scalar(node: yaml.Node) -> Any:
    return _SCALARS.construct_object(node, deep=True)


def _construct(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], enclosing: frozenset[int] = frozenset()
) -> Any:
    lines[loc] = node.start_mark.line + 1
    if id(node) in enclosing:
        # An alias to one of its own ancestors: a cycle that no tree walk could finish.
        raise UsageError(
            f"{node.start_mark.name}:{node.start_mark.line + 1}",
            "an alias refers to a node that contains it (a cycle)",
            "copy the subtree instead of aliasing an enclosing node",
        )
    enclosing = enclosing | {id(node)}
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in result:
                raise UsageError(
                    f"{key_node.start_mark.name}:{key_node.start_mark.line + 1}",
                    f"duplicate key {key!r}",
                    "keep one of the two entries",
                )
            child = (*loc, key)
            result[key] = _construct(value_node, child, lines, enclosing)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), lines, enclosing) for i, item in enumerate(node.value)]
    return _scalar(node)


def load_yaml(path: Path) -> YamlDocument:
    """Parse `path`; a missing file or a syntax error becomes a UsageError naming the line."""
    try:
        # A file object (not its text) so that every mark, and every error, carries the path.
        with path.open(encoding="utf-8") as stream:
            node = yaml.compose(stream, Loader=yaml.SafeLoader)
    except OSError as exc:
        raise UsageError(str(path), f"cannot read file ({exc.strerror})", "check the path") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 1
        raise UsageError(f"{path}:{line}", f"invalid YAML: {exc.problem}", "fix the YAML syntax") from None
    lines: dict[Loc, int] = {}
    data = _construct(node, (), lines) if node is not None else None
    return YamlDocument(path=path, data=data, lines=lines)
