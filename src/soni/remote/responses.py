"""The command response registry: a future per command sent, resolved by its response.

A side that sends commands (the server sending ``run_action``, a worker sending
``announce``) registers each one *before* sending it, then waits. The response may
come back on the event loop's reader, or — for a caller on another thread — be
handed in from anywhere; either way it reaches the one future that waits for it,
even when it arrives before anyone awaits.

Every entry leaves the map exactly once: answered, failed, cancelled, timed out or
expired. A response for a command not in the map (never sent, or already finished)
is harmless: it is logged and ``resolve`` says ``False``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from soni.remote.errors import CommandTimeout, DuplicateCommand

__all__ = ("PendingCommand", "ResponseRegistry")

logger = logging.getLogger("soni.remote")

Payload = dict[str, Any]

# Ids that finished recently, so a late response is told apart from a stray one.
_FINISHED_MEMORY = 1024


@dataclass(frozen=True, slots=True, eq=False)
class PendingCommand:
    """A command waiting for its response.

    Attributes:
        command_id: Its id: the session it is sent in.
        future: Resolved with the response payload (on the loop it was registered on).
        deadline: When it times out, on the registry's clock; ``None``: never.
        timeout: The seconds it was given (``deadline`` minus its start).
        owner: Whoever it was sent to (a worker, a connection): what ``fail_where``
            picks commands by.
    """

    command_id: str
    future: asyncio.Future[Payload]
    deadline: float | None
    timeout: float | None
    owner: object = None


@dataclass(frozen=True, slots=True)
class _Entry:
    handle: PendingCommand
    loop: asyncio.AbstractEventLoop


def _consume(future: asyncio.Future[Payload]) -> None:
    # A command failed while nobody awaits it any more (its waiter timed out) must
    # not log "exception was never retrieved"; an awaiting caller still gets it.
    if not future.cancelled():
        future.exception()


class ResponseRegistry:
    """Futures keyed by command id, resolved from any thread.

    ``register`` runs on an event loop (it creates the future there); ``resolve``,
    ``fail``, ``cancel``, ``fail_where`` and ``cleanup_expired`` may be called from
    any thread: the future is completed on its own loop (``call_soon_threadsafe``
    from elsewhere). A lock guards the map and is never held while a future is
    completed or a predicate runs.

    Example:
        >>> async def ask(registry, send):  # doctest: +SKIP
        ...     handle = registry.register(timeout=30)
        ...     await send(handle.command_id, {...})
        ...     return await registry.wait(handle)
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        """Create an empty registry.

        Args:
            clock: Seconds, for deadlines (``time.monotonic``); tests pass a fake
                one and call ``cleanup_expired`` instead of waiting.
        """
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()

    @property
    def pending(self) -> int:
        """How many commands wait for their response."""
        return len(self._entries)

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._entries

    def register(
        self,
        command_id: str | None = None,
        *,
        timeout: float | None = None,
        owner: object = None,
    ) -> PendingCommand:
        """Expect a response to the command ``command_id``; call it before sending.

        Args:
            command_id: The command's id; a fresh ``cmd-<hex>`` if ``None``.
            timeout: Seconds ``wait`` waits (and after which ``cleanup_expired``
                fails it); ``None``: no limit.
            owner: What the command was sent to, for ``fail_where``.

        Raises:
            DuplicateCommand: that id is already waiting.
            RuntimeError: not called on a running event loop.
        """
        loop = asyncio.get_running_loop()
        if command_id is None:
            command_id = f"cmd-{uuid.uuid4().hex}"
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout must be positive or None, got {timeout!r}")
        future: asyncio.Future[Payload] = loop.create_future()
        future.add_done_callback(_consume)
        deadline = None if timeout is None else self._clock() + timeout
        handle = PendingCommand(command_id, future, deadline, timeout, owner)
        with self._lock:
            if command_id in self._entries:
                raise DuplicateCommand(command_id)
            self._entries[command_id] = _Entry(handle, loop)
            self._finished.pop(command_id, None)
        return handle

    async def wait(self, handle: PendingCommand) -> Payload:
        """The response payload of ``handle``'s command.

        Raises:
            CommandTimeout: its timeout passed first (the entry is removed).
            asyncio.CancelledError: the waiter was cancelled, or ``cancel`` was
                called for it (the entry is removed either way).
            Exception: what ``fail`` or ``fail_where`` failed it with.
        """
        remaining = None if handle.deadline is None else handle.deadline - self._clock()
        try:
            async with asyncio.timeout(remaining):
                # Shielded: a timeout ends this wait, but the future stays as the
                # registry's to finish (a late response finds it done or gone).
                return await asyncio.shield(handle.future)
        except TimeoutError:
            if handle.future.done() and not handle.future.cancelled():
                return handle.future.result()
            self._finish(handle, CommandTimeout(handle.command_id, handle.timeout))
            raise CommandTimeout(handle.command_id, handle.timeout) from None
        except asyncio.CancelledError:
            self._take(handle.command_id, handle)
            handle.future.cancel()
            raise

    def resolve(self, command_id: str, payload: Payload) -> bool:
        """Hand the response of ``command_id`` to whoever waits (or will wait) for it.

        Returns:
            ``False`` when no such command waits (never sent, or already answered,
            failed, timed out or cancelled): the response is ignored and logged.
        """
        entry = self._take(command_id)
        if entry is None:
            self._stray(command_id, "response")
            return False
        return _complete(entry, _set_result, payload)

    def fail(self, command_id: str, exc: BaseException) -> bool:
        """Fail ``command_id``'s waiter with ``exc``. ``False``: no such command waits."""
        entry = self._take(command_id)
        if entry is None:
            self._stray(command_id, "failure")
            return False
        return _complete(entry, _set_exception, exc)

    def cancel(self, command_id: str) -> bool:
        """Give up on ``command_id``: its waiter gets ``CancelledError``. ``False``: none waits."""
        entry = self._take(command_id)
        if entry is None:
            return False
        return _complete(entry, _cancel, None)

    def fail_where(self, predicate: Callable[[PendingCommand], bool], exc: BaseException) -> int:
        """Fail every waiting command ``predicate`` picks (all of one lost worker, say).

        The predicate runs outside the lock, on a snapshot. Returns how many failed.
        """
        with self._lock:
            snapshot = [entry.handle for entry in self._entries.values()]
        picked = [handle for handle in snapshot if predicate(handle)]
        failed = 0
        for handle in picked:
            entry = self._take(handle.command_id, handle)
            if entry is not None and _complete(entry, _set_exception, exc):
                failed += 1
        return failed

    def cleanup_expired(self, now: float | None = None) -> int:
        """Fail with ``CommandTimeout`` every command whose deadline is past. Returns how many.

        Args:
            now: The time to compare deadlines with; the registry's clock if ``None``.
        """
        if now is None:
            now = self._clock()
        with self._lock:
            expired = [
                entry.handle
                for entry in self._entries.values()
                if entry.handle.deadline is not None and entry.handle.deadline <= now
            ]
        count = 0
        for handle in expired:
            if self._finish(handle, CommandTimeout(handle.command_id, handle.timeout)):
                count += 1
        return count

    # -- inside ----------------------------------------------------------------------

    def _take(self, command_id: str, handle: PendingCommand | None = None) -> _Entry | None:
        """Remove and return the entry (only if it is ``handle``'s, when given)."""
        with self._lock:
            entry = self._entries.get(command_id)
            if entry is None or (handle is not None and entry.handle is not handle):
                return None
            del self._entries[command_id]
            self._finished[command_id] = None
            if len(self._finished) > _FINISHED_MEMORY:
                self._finished.popitem(last=False)
        return entry

    def _finish(self, handle: PendingCommand, exc: BaseException) -> bool:
        entry = self._take(handle.command_id, handle)
        return entry is not None and _complete(entry, _set_exception, exc)

    def _stray(self, command_id: str, what: str) -> None:
        if command_id in self._finished:
            logger.debug(
                "a %s for command %r, which already finished (answered, timed out or "
                "cancelled): ignored",
                what,
                command_id,
            )
        else:
            logger.warning("a %s for command %r, which was never sent: ignored", what, command_id)


def _set_result(future: asyncio.Future[Payload], payload: Any) -> None:
    if not future.done():
        future.set_result(payload)


def _set_exception(future: asyncio.Future[Payload], exc: Any) -> None:
    if not future.done():
        future.set_exception(exc)


def _cancel(future: asyncio.Future[Payload], _: Any) -> None:
    future.cancel()


def _complete(
    entry: _Entry, action: Callable[[asyncio.Future[Payload], Any], None], value: Any
) -> bool:
    """Complete the entry's future on its own loop; ``False`` if that loop is gone."""
    loop = entry.loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        action(entry.handle.future, value)
        return True
    try:
        loop.call_soon_threadsafe(action, entry.handle.future, value)
    except RuntimeError:  # the loop is closed: nobody can be waiting any more
        logger.debug("command %r: its event loop is closed", entry.handle.command_id)
        return False
    return True
