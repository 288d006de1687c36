"""Where each element of a bot came from: file, line and column.

The YAML reader records a ``Location`` for every mapping key and every value under
its *data path* — the keys and list indexes that lead to it from the top of the bot
(``("flows", "transfer", "steps", 2, "type")``). Errors found later, by pydantic or
by the cross-reference checks, name an element by its data path and look its
location up here, so every message can point at ``file:line:col``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from soni.dsl.errors import ConfigError
from soni.errors import format_location

__all__ = ("DataPath", "Location", "SourceMap", "format_path")

DataPath = tuple[str | int, ...]
"""Keys and list indexes leading from the top of the bot to one element."""


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a bot file. ``line`` and ``column`` are 1-based; ``None`` if unknown."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return format_location(self.path, self.line, self.column)

    def error(self, message: str) -> ConfigError:
        """A ``ConfigError`` at this place."""
        return ConfigError(self.path, self.line, self.column, message)


@dataclass(frozen=True, slots=True)
class _Entry:
    key: Location | None
    value: Location


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Locations of a bot's elements by data path.

    Attributes:
        origin: The path the bot was loaded from (a file or a folder); used for
            errors about the bot as a whole.
    """

    origin: str
    _entries: Mapping[DataPath, _Entry] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def build(
        cls, origin: str, entries: Iterable[tuple[DataPath, Location | None, Location]]
    ) -> SourceMap:
        """A map from ``(path, key location, value location)`` triples; the first wins."""
        table: dict[DataPath, _Entry] = {}
        for path, key, value in entries:
            table.setdefault(path, _Entry(key, value))
        return cls(origin, MappingProxyType(table))

    def merged(self, other: SourceMap) -> SourceMap:
        """This map with the entries of ``other`` that it lacks."""
        return SourceMap(self.origin, MappingProxyType({**other._entries, **self._entries}))

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def locate(self, path: DataPath, *, key: bool = False) -> Location:
        """Where the element at ``path`` is written.

        Args:
            path: The element's data path.
            key: Point at the element's key (``slot:``) rather than its value.

        An element that is not in the file (a field left to its default) is
        located at the nearest enclosing element that is.
        """
        entry = self._entries.get(path)
        if entry is not None:
            return (entry.key or entry.value) if key else entry.value
        for end in range(len(path) - 1, 0, -1):
            entry = self._entries.get(path[:end])
            if entry is not None:
                return entry.value
        return Location(self.origin)


_PLAIN_KEY = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def format_path(path: DataPath) -> str:
    """A data path as a bot author reads it: ``flows.transfer.steps[2].cases[">100"]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part and set(part) <= _PLAIN_KEY:
            text += f".{part}" if text else part
        else:
            quoted = part.replace("\\", "\\\\").replace('"', '\\"')
            text += f'["{quoted}"]'
    return text
