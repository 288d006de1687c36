"""What a ``Bot`` tells its subscribers: turns that ended and conversations reset.

Events come from this process and, on a shared database (PostgreSQL), from every
other process serving the bot (``remote=True``): a server's event streams show
turns whichever worker answered them. Confirmation changes are the registry's own
events (``ConfirmationRegistry.subscribe``), which a shared database relays the same
way.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from soni.engine.results import ReplyView, Status, TurnResult

__all__ = ("BotEvent", "BotEvents", "ConversationReset", "TurnCompleted")

logger = logging.getLogger("soni.engine")


@dataclass(frozen=True, slots=True)
class TurnCompleted:
    """A turn ended (a message answered, or a decision's follow-up ran)."""

    conversation_id: str
    status: Status
    pending: int
    active_flow: str | None
    replies: tuple[ReplyView, ...]
    user_id: str | None
    remote: bool

    @classmethod
    def of(cls, result: TurnResult, user_id: str | None, *, remote: bool) -> TurnCompleted:
        return cls(
            result.conversation_id,
            result.status,
            len(result.pending),
            result.active_flow,
            tuple(result.replies),
            user_id,
            remote,
        )


@dataclass(frozen=True, slots=True)
class ConversationReset:
    """A conversation was forgotten (``Bot.reset``)."""

    conversation_id: str
    remote: bool


BotEvent = TurnCompleted | ConversationReset
Handler = Callable[[BotEvent], Any]


class BotEvents:
    """Subscribers of a bot's events; copy-on-write, so emitting never takes a lock."""

    def __init__(self) -> None:
        self._handlers: tuple[Handler, ...] = ()

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        self._handlers = (*self._handlers, handler)

        def unsubscribe() -> None:
            self._handlers = tuple(h for h in self._handlers if h is not handler)

        return unsubscribe

    def __bool__(self) -> bool:
        """Whether anyone listens: an event nobody hears need not be built."""
        return bool(self._handlers)

    async def emit(self, event: BotEvent) -> None:
        """Call every handler (awaiting those that return an awaitable); log failures."""
        for handler in self._handlers:
            try:
                outcome = handler(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                logger.exception("a handler of %s failed", type(event).__name__)
