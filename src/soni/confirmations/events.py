"""Who hears about transitions: observers (subscribers) and waiters (``wait`` calls).

Both are told after the store committed, outside any lock. Waiters may sit on other
threads' event loops, so they are woken with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from soni.confirmations.records import Actor, PendingConfirmation, Status

__all__ = ("ConfirmationEvent", "Observer", "Observers", "Waiters")

logger = logging.getLogger("soni.confirmations")


@dataclass(frozen=True, slots=True)
class ConfirmationEvent:
    """A committed transition, as observers receive it.

    Attributes:
        confirmation_id: The confirmation.
        conversation_id: Its conversation.
        user_id: The user it asks.
        from_status: The status before (``None`` when it was just registered).
        to_status: The status after.
        actor: Who made the transition.
        at: When.
        confirmation: The full record after the transition — except for expiries
            recorded in bulk by ``cleanup_expired``, where it is ``None`` (read it
            with ``registry.get_by_id`` if you need it).
        remote: Whether another process sharing the database made the transition
            and this one relays it (``ConfirmationRegistry.relay``).
    """

    confirmation_id: str
    conversation_id: str
    user_id: str | None
    from_status: Status | None
    to_status: Status
    actor: Actor
    at: datetime
    confirmation: PendingConfirmation | None = None
    remote: bool = False

    @classmethod
    def of(
        cls, record: PendingConfirmation, from_status: Status | None, actor: Actor, at: datetime
    ) -> ConfirmationEvent:
        return cls(
            record.id,
            record.conversation_id,
            record.user_id,
            from_status,
            record.status,
            actor,
            at,
            record,
        )


Observer = Callable[[ConfirmationEvent], Awaitable[None] | None]
_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[PendingConfirmation | None]"]


class Observers:
    """Subscribed callbacks, copy-on-write so notifying never takes the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observers: tuple[Observer, ...] = ()

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        with self._lock:
            self._observers = (*self._observers, observer)

        def unsubscribe() -> None:
            with self._lock:
                self._observers = tuple(o for o in self._observers if o is not observer)

        return unsubscribe

    def __bool__(self) -> bool:
        return bool(self._observers)

    async def notify(self, event: ConfirmationEvent) -> None:
        await self.notify_all((event,))

    async def notify_all(self, events: Iterable[ConfirmationEvent]) -> None:
        observers = self._observers  # a snapshot: subscribe replaces the tuple
        for event in events:
            for observer in observers:
                try:
                    outcome = observer(event)
                    if outcome is not None and inspect.isawaitable(outcome):
                        await outcome
                except Exception:
                    logger.exception(
                        "confirmation observer %r failed on %s", observer, event.to_status
                    )


class Waiters:
    """Futures of ``wait`` calls, by confirmation id, on any thread's event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, list[_Waiter]] = {}

    @contextlib.contextmanager
    def listen(self, confirmation_id: str) -> Iterator[asyncio.Future[PendingConfirmation | None]]:
        """A future resolved when the confirmation closes.

        Its result is the closed record, or ``None`` when the closer did not read
        it back (a bulk expiry): then read it from the store.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PendingConfirmation | None] = loop.create_future()
        waiter = (loop, future)
        with self._lock:
            self._waiters.setdefault(confirmation_id, []).append(waiter)
        try:
            yield future
        finally:
            with self._lock:
                waiters = self._waiters.get(confirmation_id, [])
                if waiter in waiters:
                    waiters.remove(waiter)
                if not waiters:
                    self._waiters.pop(confirmation_id, None)
            if not future.done():
                future.cancel()

    def wake(self, confirmation_id: str, record: PendingConfirmation | None) -> None:
        with self._lock:
            waiters = self._waiters.pop(confirmation_id, [])
        _resolve(waiters, record)

    def wake_all(self, confirmation_ids: list[str]) -> None:
        """Wake every waiter of these confirmations, to read them from the store."""
        with self._lock:
            if not self._waiters:
                return
            waiters = [w for cid in confirmation_ids for w in self._waiters.pop(cid, ())]
        _resolve(waiters, None)


def _resolve(waiters: list[_Waiter], record: PendingConfirmation | None) -> None:
    for loop, future in waiters:
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody to wake
            loop.call_soon_threadsafe(_set_result, future, record)


def _set_result(
    future: asyncio.Future[PendingConfirmation | None], record: PendingConfirmation | None
) -> None:
    if not future.done():
        future.set_result(record)
