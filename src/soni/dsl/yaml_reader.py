"""Reading one YAML file into plain data, remembering where everything was written.

PyYAML's ``SafeLoader`` forgets positions once it has built Python objects and
silently keeps the last of two equal keys. Bot authors need both: every error
should point at a line, and a key written twice is almost always a copy-paste
mistake. So the file is *composed* (parsed into nodes, which carry their marks)
and the nodes are turned into data here, recording each key's and value's
``Location`` by data path and refusing duplicate keys.

Scalars follow the YAML 1.2 core schema rather than PyYAML's YAML 1.1 default:
only ``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` stay text, so
``choices: [yes, no]`` means what it says), ``010`` is ten, ``1:30`` is text and
dates stay text (slot types parse them). Mapping keys are always taken as written
(``cases: {true: ok}`` has the key ``"true"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from soni.dsl.errors import ConfigError
from soni.dsl.source import DataPath, Location, format_path

__all__ = ("ParsedFile", "parse_yaml")

# Guards against "billion laughs": aliases can make a tiny file expand enormously.
_MAX_NODES = 500_000
_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _BotLoader(yaml.SafeLoader):
    """``SafeLoader`` with the YAML 1.2 core schema's implicit types."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class-level table

    def construct_core_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if text[:2] in ("0o", "0x"):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text, 10)

    def construct_core_float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node)).lower()
        if text.endswith((".inf", ".nan")):
            return float(text.replace(".", ""))
        return float(text)


_BotLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_BotLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_BotLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_BotLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_BotLoader.add_implicit_resolver(_MERGE_TAG, re.compile(r"^<<$"), ["<"])
_BotLoader.add_constructor("tag:yaml.org,2002:int", _BotLoader.construct_core_int)
_BotLoader.add_constructor("tag:yaml.org,2002:float", _BotLoader.construct_core_float)


@dataclass(slots=True)
class ParsedFile:
    """One file's data (``None`` if unreadable), its locations and its errors."""

    path: str
    data: Any = None
    parsed: bool = False
    """Whether the file was read and parsed (``data`` may hold a partial result)."""
    locations: list[tuple[DataPath, Location | None, Location]] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)


def parse_yaml(text: str, path: str) -> ParsedFile:
    """Parse ``text`` (the contents of ``path``) into data and locations.

    Never raises for a bad document: problems are collected in ``errors``.
    """
    result = ParsedFile(path)
    try:
        loader = _BotLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        result.errors.append(_syntax_error(exc, path))
        return result
    except yaml.reader.ReaderError as exc:
        line, column = _line_column(text, exc.position)
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        result.errors.append(
            ConfigError(path, line, column, f"invalid character {character!r} in the file")
        )
        return result
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises marked errors above
        result.errors.append(ConfigError(path, None, None, f"invalid YAML: {exc}"))
        return result
    except RecursionError:
        # PyYAML composes nested lists and mappings recursively.
        result.errors.append(ConfigError(path, None, None, _TOO_DEEP))
        return result
    if root is None or (isinstance(root, ScalarNode) and root.value == "" and not root.style):
        result.errors.append(ConfigError(path, None, None, "the file is empty"))
        return result
    builder = _Builder(loader, path, result)
    result.data = builder.build(root, ())
    result.parsed = True
    return result


def _line_column(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    line = before.count("\n") + 1
    return line, position - (before.rfind("\n") + 1) + 1


def _mark_location(path: str, mark: yaml.Mark | None) -> Location:
    if mark is None:
        return Location(path)
    return Location(path, mark.line + 1, mark.column + 1)


def _syntax_error(exc: yaml.MarkedYAMLError, path: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    where = _mark_location(path, mark)
    problem = exc.problem or "invalid YAML"
    if "'\\t'" in problem:
        message = "tab character in the indentation; YAML indents with spaces only"
    elif problem == "but found another document":
        message = "more than one YAML document ('---') in the file; a bot file holds one mapping"
    else:
        message = f"invalid YAML: {problem}"
        if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        elif exc.context:
            message += f" ({exc.context})"
        if problem == "mapping values are not allowed here":
            message += "; a text containing ': ' must be quoted"
    return where.error(message)


_MAX_DEPTH = 100  # far more than any bot needs; deeper data would exhaust the stack later
_TOO_DEEP = f"the document nests lists and mappings too deeply (more than {_MAX_DEPTH} levels)"


class _Builder:
    """Turns composed nodes into dicts, lists and scalars, recording locations."""

    def __init__(self, loader: _BotLoader, path: str, result: ParsedFile) -> None:
        self._loader = loader
        self._path = path
        self._result = result
        self._count = 0
        self._active: set[int] = set()  # nodes being built, to catch recursive aliases
        self._too_big = False

    def _at(self, node: Node) -> Location:
        return _mark_location(self._path, node.start_mark)

    def _error(self, node: Node, where: DataPath, message: str) -> None:
        prefix = f"{format_path(where)}: " if where else ""
        self._result.errors.append(self._at(node).error(prefix + message))

    def build(self, node: Node, where: DataPath) -> Any:
        self._count += 1
        if self._count > _MAX_NODES:
            if not self._too_big:
                self._too_big = True
                self._error(node, where, "the document is too large (check its aliases)")
            return None
        if id(node) in self._active:
            self._error(node, where, "an alias refers to a value that contains it")
            return None
        if len(where) > _MAX_DEPTH:
            if not self._too_big:
                self._too_big = True
                self._error(node, where[:3], _TOO_DEEP)
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, where)
        if node.tag not in _COLLECTION_TAGS:
            # A tag on a mapping or list would otherwise be dropped without a word;
            # like on a plain value, only the core schema's are known.
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._error(node, where, f"unsupported tag {tag!r}")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self._sequence(node, where)
            if isinstance(node, MappingNode):
                return self._mapping(node, where)
        finally:
            self._active.discard(id(node))
        return None  # pragma: no cover - the composer only makes these three kinds

    def _scalar(self, node: ScalarNode, where: DataPath) -> Any:
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            # Only the core schema's tags are known: nothing in a bot file runs code.
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._error(node, where, f"unsupported tag {tag!r}")
        except ValueError as exc:  # a malformed value with an explicit tag (!!int x)
            self._error(node, where, f"cannot read this value: {exc}")
        return None

    def _sequence(self, node: SequenceNode, where: DataPath) -> list[Any]:
        items: list[Any] = []
        for index, item in enumerate(node.value):
            item_path = (*where, index)
            self._result.locations.append((item_path, None, self._at(item)))
            items.append(self.build(item, item_path))
        return items

    def _mapping(self, node: MappingNode, where: DataPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self._error(key_node, where, "a key must be plain text, not a list or mapping")
                continue
            key = str(key_node.value)
            if key in first_seen:
                first = first_seen[key].start_mark
                self._error(
                    key_node,
                    where,
                    f"duplicate key {key!r} (first defined on line {first.line + 1})",
                )
                continue
            first_seen[key] = key_node
            item_path = (*where, key)
            self._result.locations.append((item_path, self._at(key_node), self._at(value_node)))
            result[key] = self.build(value_node, item_path)
        # ``<<: *base`` copies the keys of ``base`` that the mapping does not set itself.
        for merged in merges:
            for source in self._merge_sources(merged, where):
                for key, value in source.items():
                    result.setdefault(key, value)
        return result

    def _merge_sources(self, node: Node, where: DataPath) -> Iterator[dict[str, Any]]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        for item in nodes:
            if not isinstance(item, MappingNode):
                self._error(item, where, "'<<' merges mappings only")
                continue
            if id(item) in self._active:
                self._error(item, where, "an alias refers to a value that contains it")
                continue
            self._active.add(id(item))
            try:
                yield self._mapping(item, where)
            finally:
                self._active.discard(id(item))
