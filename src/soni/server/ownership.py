"""Which user owns which conversation, when API keys are on.

The owner is the conversation state's ``user_id``, set by the turn that started
it. Reading a checkpoint for every request would cost a database read per turn,
so owners are cached (bounded, least recently used out); a miss reads the state.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ("Owners",)

_CACHE = 100_000
_UNKNOWN = object()

StateReader = Callable[[str], Awaitable[dict[str, Any]]]


class Owners:
    """Conversation owners, read from the conversation state and cached.

    Args:
        read_state: Returns a conversation's saved state (``{}`` if it has none).
        capacity: How many owners are cached.
    """

    def __init__(self, read_state: StateReader, capacity: int = _CACHE) -> None:
        self._read_state = read_state
        self._capacity = capacity
        self._owners: OrderedDict[str, str | None] = OrderedDict()

    def _remember(self, conversation_id: str, owner: str | None) -> str | None:
        # setdefault: of two requests racing to start the same conversation, the
        # first to get here owns it, whatever the other one read meanwhile.
        owner = self._owners.setdefault(conversation_id, owner)
        self._owners.move_to_end(conversation_id)
        while len(self._owners) > self._capacity:
            self._owners.popitem(last=False)
        return owner

    async def owner(self, conversation_id: str) -> tuple[bool, str | None]:
        """Whether the conversation exists, and its owner."""
        cached = self._owners.get(conversation_id, _UNKNOWN)
        if cached is not _UNKNOWN:
            return True, cached  # type: ignore[return-value]
        state = await self._read_state(conversation_id)
        if not state:
            return False, None
        return True, self._remember(conversation_id, state.get("user_id"))

    async def is_owner(self, conversation_id: str, user_id: str | None) -> bool:
        """Whether the conversation exists and belongs to ``user_id``."""
        exists, owner = await self.owner(conversation_id)
        return exists and owner is not None and owner == user_id

    async def claim(self, conversation_id: str, user_id: str) -> bool:
        """Whether ``user_id`` may send to the conversation; a new one becomes theirs."""
        exists, owner = await self.owner(conversation_id)
        if not exists:
            owner = self._remember(conversation_id, user_id)
        return owner == user_id

    def forget(self, conversation_id: str) -> None:
        """The conversation was reset: whoever starts it next owns it."""
        self._owners.pop(conversation_id, None)
