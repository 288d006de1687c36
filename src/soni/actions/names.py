"""Names to registered things, copy-on-write: the map behind actions and validators.

Reads are on the hot path (every action step resolves its handler, every collected
value its validator); writes happen at import time and in tests. So writers
serialise on one lock and publish a new immutable map, and readers never lock: they
read whichever map is published, with one attribute load.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Generic, TypeVar

__all__ = ("NameMap", "close_names")

V = TypeVar("V")


class NameMap(Generic[V]):
    """Values by name: lock-free reads of an immutable map, writes under one lock."""

    __slots__ = ("_lock", "_map")

    def __init__(self, initial: Mapping[str, V] | None = None) -> None:
        self._lock = threading.Lock()
        self._map: Mapping[str, V] = MappingProxyType(dict(initial or {}))

    # -- reading (lock-free) ----------------------------------------------------------

    @property
    def current(self) -> Mapping[str, V]:
        """The published map: read-only, never changed once published."""
        return self._map

    def get(self, name: str) -> V | None:
        return self._map.get(name)

    def names(self) -> list[str]:
        """The names, sorted."""
        return sorted(self._map)

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Names close to ``name``, best first (for a "did you mean")."""
        return close_names(name, self._map, limit)

    def __contains__(self, name: object) -> bool:
        return name in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    # -- writing (one lock) -------------------------------------------------------------

    def put(self, name: str, value: V, check: Callable[[V | None], None] | None = None) -> V | None:
        """Publish ``value`` under ``name``; returns what was there.

        ``check(previous)`` runs under the lock first and may raise to refuse the
        write (a strict registry's name already taken): nothing changes then.
        """
        with self._lock:
            previous = self._map.get(name)
            if check is not None:
                check(previous)
            self._map = MappingProxyType({**self._map, name: value})
        return previous

    def remove(self, name: str) -> bool:
        """Remove ``name``. Returns whether it was there."""
        with self._lock:
            if name not in self._map:
                return False
            self._map = MappingProxyType({k: v for k, v in self._map.items() if k != name})
        return True

    def replace(self, values: Mapping[str, V]) -> Mapping[str, V]:
        """Publish ``values`` as the whole map. Returns the previous one."""
        with self._lock:
            previous, self._map = self._map, MappingProxyType(dict(values))
        return previous

    def __repr__(self) -> str:
        return f"<NameMap {len(self._map)} names>"


def close_names(name: str, names: Iterable[str], limit: int = 3) -> list[str]:
    """The ``names`` close to ``name``, best first."""
    return difflib.get_close_matches(name, list(names), n=limit, cutoff=0.6)
