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
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from soni.confirmations.records import Actor, PendingConfirmation, Status

__all__ = ("ConfirmationEvent", "Observer", "Observers", "Waiters")

logger = logging.getLogger("soni.confirmations")


@dataclass(frozen=True, slots=True)
class ConfirmationEvent:
    """A committed transition, as observers receive it."""

    confirmation: PendingConfirmation
    from_status: Status | None
    to_status: Status
    actor: Actor
    at: datetime


Observer = Callable[[ConfirmationEvent], Awaitable[None] | None]
_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[PendingConfirmation]"]


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

    async def notify(self, event: ConfirmationEvent) -> None:
        for observer in self._observers:  # a snapshot: subscribe replaces the tuple
            try:
                outcome = observer(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                logger.exception("confirmation observer %r failed on %s", observer, event.to_status)


class Waiters:
    """Futures of ``wait`` calls, by confirmation id, on any thread's event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, list[_Waiter]] = {}

    @contextlib.contextmanager
    def listen(self, confirmation_id: str) -> Iterator[asyncio.Future[PendingConfirmation]]:
        """A future resolved with the record when the confirmation closes."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PendingConfirmation] = loop.create_future()
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

    def wake(self, record: PendingConfirmation) -> None:
        with self._lock:
            waiters = self._waiters.pop(record.id, [])
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody to wake
                loop.call_soon_threadsafe(_set_result, future, record)


def _set_result(future: asyncio.Future[PendingConfirmation], record: PendingConfirmation) -> None:
    if not future.done():
        future.set_result(record)
