"""``bot.events``: one typed stream of what happens to a bot, from every process.

A subscriber (``bot.events.subscribe(handler)``) hears:

- ``TurnCompleted``: a turn ended (a message answered, or a decision's follow-up ran);
- ``ConversationReset``: a conversation was forgotten;
- ``ConfirmationChanged``: a confirmation moved (registered, shown, decided,
  executed, expired…), with the registry's ``ConfirmationEvent``;
- ``ActionRan``: an action's run ended — done, failed, or with an outcome nobody
  can know (its process died mid-run) — guarded by a confirmation or not.

Each event says whether it happened in this process or in another one sharing the
database (``remote=True``, PostgreSQL only): a server's event streams show every
worker's turns, while counters (metrics) count only their own process's events.

Handlers run on the bot's event loop, in the order the events happened, inside the
work that caused them (a turn's events before its answer is returned): a handler
that returns an awaitable is awaited. Keep them quick; a handler that raises is
logged and the others still run.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from soni.confirmations import ConfirmationEvent, Status
from soni.engine.results import ReplyView, TurnResult
from soni.wire import TurnStatus

__all__ = (
    "ActionOutcome",
    "ActionRan",
    "BotEvent",
    "BotEvents",
    "ConfirmationChanged",
    "ConversationReset",
    "TurnCompleted",
)

logger = logging.getLogger("soni.engine")


@dataclass(frozen=True, slots=True)
class TurnCompleted:
    """A turn ended (a message answered, or a decision's follow-up ran)."""

    conversation_id: str
    status: TurnStatus
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


@dataclass(frozen=True, slots=True)
class ConfirmationChanged:
    """A confirmation moved from one status to another.

    Attributes:
        confirmation: The transition, as the confirmation registry's observers get it.
        remote: Whether another process made it.
    """

    confirmation: ConfirmationEvent
    remote: bool

    @property
    def conversation_id(self) -> str:
        return self.confirmation.conversation_id


ActionOutcome = Literal["done", "failed", "unknown"]

# The confirmation statuses that end a guarded run, and what they tell of it.
_RUN_ENDED: dict[Status, ActionOutcome] = {
    Status.EXECUTED: "done",
    Status.FAILED: "failed",
    Status.INTERRUPTED: "unknown",
}


@dataclass(frozen=True, slots=True)
class ActionRan:
    """An action's run ended.

    Attributes:
        conversation_id: The conversation it ran for.
        action: The action's name.
        outcome: ``done``; ``failed`` (its handler raised or timed out: ``error``
            says why); ``unknown`` (cut off before its outcome was recorded — a
            process died mid-run, say — and never run again by itself).
        confirmation_id: The confirmation that guarded it; ``None`` for an action
            no confirmation guards (the action journal records those runs).
        error: What went wrong, for ``failed``.
        remote: Whether it ran in another process.
    """

    conversation_id: str
    action: str
    outcome: ActionOutcome
    confirmation_id: str | None = None
    error: str | None = None
    remote: bool = False

    @classmethod
    def of(cls, changed: ConfirmationChanged) -> ActionRan | None:
        """The run a confirmation's transition ended; ``None`` if it ended none."""
        event = changed.confirmation
        outcome = _RUN_ENDED.get(event.to_status)
        if outcome is None:
            return None
        record = event.confirmation
        call = record.chosen_action if record is not None else None
        action = call.name if call is not None else "?"
        return cls(
            event.conversation_id,
            action,
            outcome,
            confirmation_id=event.confirmation_id,
            error=record.error if record is not None else None,
            remote=changed.remote,
        )


BotEvent = TurnCompleted | ConversationReset | ConfirmationChanged | ActionRan
Handler = Callable[[BotEvent], Any]


class BotEvents:
    """The subscribers of a bot's events; copy-on-write, so emitting never takes a lock."""

    def __init__(self) -> None:
        self._handlers: tuple[Handler, ...] = ()

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call ``handler(event)`` for every event from now on.

        Returns:
            A function that unsubscribes (calling it twice is harmless).
        """
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
