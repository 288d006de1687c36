"""Subscriptions: one bounded mailbox per subscriber, filled on the registry's loop."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import TYPE_CHECKING

from soni.sessions.events import SessionEvent

if TYPE_CHECKING:
    from soni.sessions.registry import SessionRegistry

__all__ = ("Broadcast", "Mailbox", "Subscription")

logger = logging.getLogger("soni.sessions")


class Mailbox:
    """Events waiting for one subscriber; ``None`` in the queue ends its iteration.

    The queue itself is unbounded so that the final ``lagged`` event and the end
    always fit; ``capacity`` is enforced by ``offer``.
    """

    __slots__ = ("capacity", "closed", "conversation_id", "queue")

    def __init__(self, conversation_id: str | None, capacity: int) -> None:
        self.conversation_id = conversation_id
        self.capacity = capacity
        self.closed = False
        self.queue: asyncio.Queue[SessionEvent | None] = asyncio.Queue()

    def offer(self, event: SessionEvent) -> bool:
        """Queue the event; ``False`` when the subscriber has ``capacity`` unread."""
        if self.queue.qsize() >= self.capacity:
            return False
        self.queue.put_nowait(event)
        return True

    def end(self, final: SessionEvent | None = None) -> None:
        """End the iteration after what is queued (and ``final``, if given)."""
        if self.closed:
            return
        self.closed = True
        if final is not None:
            self.queue.put_nowait(final)
        self.queue.put_nowait(None)


class Broadcast:
    """The subscribers' mailboxes, by the conversation they follow (``None``: all).

    Plain data with no locking: it changes only on the registry's event loop.
    """

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        # Mailboxes in arrival order: a dict, so that forgetting one costs O(1).
        self._groups: dict[str | None, dict[Mailbox, None]] = {}

    def follows(self, conversation_id: str) -> bool:
        """Whether anyone follows this conversation (or every conversation)."""
        return None in self._groups or conversation_id in self._groups

    def add(self, mailbox: Mailbox) -> None:
        if not mailbox.closed:
            self._groups.setdefault(mailbox.conversation_id, {})[mailbox] = None

    def forget(self, mailbox: Mailbox) -> None:
        group = self._groups.get(mailbox.conversation_id)
        if group is not None:
            group.pop(mailbox, None)
            if not group:
                del self._groups[mailbox.conversation_id]

    def emit(self, event: SessionEvent) -> None:
        """Offer the event to the followers of all, then of its conversation."""
        self._deliver(self._groups.get(None), event)
        if event.conversation_id is not None:
            self._deliver(self._groups.get(event.conversation_id), event)

    def end_all(self) -> None:
        for group in self._groups.values():
            for mailbox in group:
                mailbox.end()
        self._groups.clear()

    def _deliver(self, group: dict[Mailbox, None] | None, event: SessionEvent) -> None:
        if not group:
            return
        lagging = [m for m in group if not m.closed and not m.offer(event)]
        for mailbox in lagging:
            # Dropped rather than waited for: one slow reader must not hold up the rest.
            self.forget(mailbox)
            logger.warning(
                "session subscriber (%s) dropped: %d events unread",
                mailbox.conversation_id or "all conversations",
                mailbox.capacity,
            )
            notice = SessionEvent(
                "lagged", mailbox.conversation_id, {"queue_size": mailbox.capacity}
            )
            mailbox.end(notice)


class Subscription:
    """The events of one conversation, or of all, as an async iterator.

    Use it as an async context manager, so it is attached before anything you do
    next and detached when you leave::

        async with sessions.subscribe("c1") as subscription:
            async for event in subscription:
                ...

    Iterating without ``async with`` attaches at the first ``__anext__``. The
    iteration ends when the subscription is closed, when the registry stops, or
    after a final ``lagged`` event when the subscriber fell ``queue_size`` events
    behind. Iterate on the registry's event loop.
    """

    def __init__(self, registry: SessionRegistry, conversation_id: str | None) -> None:
        self._registry = registry
        self._conversation_id = conversation_id
        self._mailbox: Mailbox | None = None
        self._finished = False

    @property
    def conversation_id(self) -> str | None:
        """The conversation followed, or ``None`` for all."""
        return self._conversation_id

    async def open(self) -> None:
        """Attach to the registry; events published from now on are received.

        Raises:
            SessionCommandError: the registry is not running, or this is not its
                event loop.
        """
        if self._mailbox is not None or self._finished:
            return
        mailbox = Mailbox(self._conversation_id, self._registry.queue_size)
        self._registry._attach(mailbox)
        self._mailbox = mailbox

    def close(self) -> None:
        """Detach; an iteration in progress ends after the events already queued."""
        self._finished = True
        mailbox = self._mailbox
        if mailbox is not None and not mailbox.closed:
            mailbox.end()
            self._registry._detach(mailbox)

    async def aclose(self) -> None:
        """``close()``, for ``contextlib.aclosing``."""
        self.close()

    async def __aenter__(self) -> Subscription:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> SessionEvent:
        await self.open()
        mailbox = self._mailbox
        if mailbox is None:
            raise StopAsyncIteration
        event = await mailbox.queue.get()
        if event is None:
            self._finished = True
            mailbox.queue.put_nowait(None)  # later calls end too
            raise StopAsyncIteration
        return event
