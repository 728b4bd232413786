"""Load YAML within bounds, remembering where every key is, so errors can name file and line.

Every YAML input (scenario, suppressions, playbook) goes through `load_yaml`. Its limits, besides those of
`infradiag.inputfile.read_text` (a regular file, at most 64 MiB, UTF-8 text):

- no control characters (YAML forbids them; the error names line and column);
- at most `MAX_DEPTH` levels of nested mappings and lists;
- aliases may expand to at most `MAX_ALIAS_NODES` nodes in all (a "billion laughs" file is refused at
  once instead of growing to gigabytes), and an alias may not refer to a node that contains it;
- only the standard scalar tags; merge keys (`<<`) are refused.

Parsing uses libyaml (PyYAML's C loader), whose time grows linearly with the file; the pure-Python loader,
whose time grows with the square of a long scalar's length, is only the fallback where libyaml is missing.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infradiag.errors import UsageError
from infradiag.inputfile import read_text

Loc = tuple[str | int, ...]

MAX_DEPTH = 100
MAX_ALIAS_NODES = 100_000

_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = (
    yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
)
# What YAML 1.1 forbids in a stream (https://yaml.org/spec/1.1/#id868518): C0 controls but tab, LF and
# CR, DEL, C1 controls but NEL, and the two non-characters U+FFFE and U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_MAPPING_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:set"})
_SEQUENCE_TAGS = frozenset({"tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs"})
_DEPTH_PROBLEM = f"nesting deeper than {MAX_DEPTH} levels"
_DEPTH_FIX = f"nest lists and mappings at most {MAX_DEPTH} deep"


@dataclass
class YamlDocument:
    """A parsed YAML document plus its node tree, from which `line_of` finds where each path starts."""

    path: Path
    data: Any
    root: yaml.Node | None = None

    def line_of(self, loc: Loc) -> int:
        """1-based line of `loc`: of its key in a mapping, of the item in a list; of its nearest ancestor
        when `loc` is not in the document; 1 for an empty document."""
        node = self.root
        if node is None:
            return 1
        line: int = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if _key_or_none(key_node) == part:
                        line, node = key_node.start_mark.line + 1, value_node
                        break
                else:
                    return line
            elif (
                isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
            ):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def where(self, loc: Loc) -> str:
        """`file:line` for `loc`, ready for an error message."""
        return f"{self.path}:{self.line_of(loc)}"


class _TextTimestampConstructor(yaml.constructor.SafeConstructor):
    """Keeps timestamps as written: Google resources carry RFC 3339 strings, not datetimes."""


_TextTimestampConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str
)
_SCALARS = _TextTimestampConstructor()
# Called directly rather than through construct_object, whose cache of every node it has seen would keep
# each loaded document alive.
_SCALAR_CONSTRUCTORS: dict[str, Callable[[yaml.constructor.SafeConstructor, yaml.Node], Any]] = {
    f"tag:yaml.org,2002:{name}": _TextTimestampConstructor.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    for name in ("null", "bool", "int", "float", "str", "timestamp", "binary")
}


def _key_or_none(node: yaml.Node) -> Any:
    try:
        return _SCALAR_CONSTRUCTORS[node.tag](_SCALARS, node)
    except (KeyError, ValueError, TypeError, yaml.YAMLError):
        return None


class _Builder:
    """Python values from a node graph, refusing what would be too deep, too large or endless."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: set[int] = set()  # collections built once: meeting one again is an alias expansion
        self.open: set[int] = set()  # collections being built: meeting one again is a cycle
        self.expanded = 0

    def error(self, node: yaml.Node, problem: str, fix: str) -> UsageError:
        return UsageError(f"{self.path}:{node.start_mark.line + 1}", problem, fix)

    def build(self, node: yaml.Node, depth: int, aliased: bool) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if aliased:
                self._count(node)
            return self.scalar(node)
        key = id(node)
        if key in self.open:
            raise self.error(
                node,
                "an alias refers to a node that contains it (a cycle)",
                "copy the subtree instead of aliasing an enclosing node",
            )
        if depth > MAX_DEPTH:
            raise self.error(node, _DEPTH_PROBLEM, _DEPTH_FIX)
        if key in self.seen:
            aliased = True
        self.seen.add(key)
        if aliased:
            self._count(node)
        self.open.add(key)
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, depth, aliased)
            if node.tag not in _SEQUENCE_TAGS:
                raise self._unsupported_tag(node)
            return [self.build(item, depth + 1, aliased) for item in node.value]
        finally:
            self.open.discard(key)

    def mapping(self, node: yaml.MappingNode, depth: int, aliased: bool) -> dict[Any, Any]:
        if node.tag not in _MAPPING_TAGS:
            raise self._unsupported_tag(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise self.error(
                    key_node,
                    "merge keys (<<) are not supported",
                    "write the keys out, or alias the whole mapping",
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(
                    key_node, "a key must be a plain value, not a list or mapping", "use a string as the key"
                )
            if aliased:
                self._count(key_node)
            key = self.scalar(key_node)
            if key in result:
                raise self.error(key_node, f"duplicate key {key!r}", "keep one of the two entries")
            result[key] = self.build(value_node, depth + 1, aliased)
        return result

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag == _STR_TAG and isinstance(node, yaml.ScalarNode):
            return node.value  # most scalars: what construct_yaml_str returns, without its calls
        constructor = _SCALAR_CONSTRUCTORS.get(node.tag)
        if constructor is None:
            raise self._unsupported_tag(node)
        try:
            return constructor(_SCALARS, node)
        except (ValueError, TypeError, yaml.YAMLError) as exc:
            problem = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else exc
            raise self.error(
                node, f"{node.tag} value {_short(node.value)}: {problem}", "fix the value"
            ) from None

    def _count(self, node: yaml.Node) -> None:
        self.expanded += 1
        if self.expanded > MAX_ALIAS_NODES:
            raise self.error(
                node,
                f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)",
                "write the repeated parts out, or alias fewer of them",
            )

    def _unsupported_tag(self, node: yaml.Node) -> UsageError:
        return self.error(
            node, f"unsupported tag {node.tag!r}", "remove the tag; plain YAML values are enough"
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def load_yaml(path: Path, what: str = "YAML file", text: str | None = None) -> YamlDocument:
    """Parse `path` within the limits above; a missing or unreadable file, bad bytes, a syntax error or a
    limit passed becomes a UsageError naming the file, the line and the fix. `text`, when given, is the
    file's text as `read_text` already read it, parsed as `path` without reading the file again."""
    if text is None:
        text = read_text(path, what)
    forbidden = _FORBIDDEN.search(text)
    if forbidden:
        line = text.count("\n", 0, forbidden.start()) + 1
        column = forbidden.start() - (text.rfind("\n", 0, forbidden.start()) + 1) + 1
        raise UsageError(
            f"{path}:{line}",
            f"control character U+{ord(forbidden.group()):04X} at line {line}, column {column}",
            "remove it, or write it as an escape (e.g. \\t) inside double quotes",
        )
    with without_cycle_collection():
        return _parse(path, text)


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """No automatic collection of reference cycles inside the block (the previous setting comes back after
    it). Loading allocates a node, two marks and a value for every scalar, then validated copies, none of
    them garbage yet: each automatic collection walked them all again, which made a 5 MB file of many small
    values take 2.6 s to compose instead of 0.45 s. Reference counting still frees what is dropped."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(path: Path, text: str) -> YamlDocument:
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1 if mark else 1}"
        if "nesting depth" in str(exc.problem):  # libyaml's own bound (1000 levels)
            raise UsageError(where, _DEPTH_PROBLEM, _DEPTH_FIX) from None
        raise UsageError(where, f"invalid YAML: {exc.problem}", "fix the YAML syntax") from None
    except yaml.YAMLError as exc:
        raise UsageError(
            str(path), f"invalid YAML: {' '.join(str(exc).split())}", "fix the YAML syntax"
        ) from None
    except RecursionError:  # the pure-Python composer recurses once per level
        raise UsageError(str(path), _DEPTH_PROBLEM, _DEPTH_FIX) from None
    data = _Builder(path).build(node, 1, False) if node is not None else None
    return YamlDocument(path=path, data=data, root=node)
