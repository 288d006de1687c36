"""The map of live conversations, least recently active first.

Plain data with no locking: it changes only on the registry's event loop.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from soni.sessions.events import SessionInfo

__all__ = ("Entry", "SessionTable")


@dataclass(slots=True)
class Entry:
    """One live conversation; ``seen`` is the monotonic time of its last activity."""

    conversation_id: str
    user_id: str | None
    status: str
    active_flow: str | None
    pending: int
    started_at: datetime
    last_active: datetime
    seen: float

    def info(self) -> SessionInfo:
        return SessionInfo(
            self.conversation_id,
            self.user_id,
            self.status,
            self.active_flow,
            self.pending,
            self.started_at,
            self.last_active,
        )


class SessionTable:
    """Live conversations in order of last activity, bounded by ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, conversation_id: str) -> Entry | None:
        return self._entries.get(conversation_id)

    def touch(self, conversation_id: str, now: datetime, seen: float) -> tuple[Entry, bool]:
        """The conversation's entry, now the most recently active; ``True`` if new."""
        entry = self._entries.get(conversation_id)
        created = entry is None
        if entry is None:
            entry = Entry(conversation_id, None, "active", None, 0, now, now, seen)
            self._entries[conversation_id] = entry
        else:
            self._entries.move_to_end(conversation_id)
        entry.last_active = now
        entry.seen = seen
        return entry, created

    def remove(self, conversation_id: str) -> Entry | None:
        return self._entries.pop(conversation_id, None)

    def make_room(self) -> list[Entry]:
        """Remove and return the least recently active entries beyond capacity."""
        evicted: list[Entry] = []
        while len(self._entries) > self.capacity:
            evicted.append(self._entries.popitem(last=False)[1])
        return evicted

    def idle(self, seen_before: float) -> list[Entry]:
        """Remove and return every entry last active before ``seen_before``."""
        gone: list[Entry] = []
        # Oldest first, so the scan stops at the first entry still in use.
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest.seen >= seen_before:
                break
            gone.append(self._entries.pop(oldest.conversation_id))
        return gone

    def newest_first(self) -> Iterator[Entry]:
        return reversed(self._entries.values())
