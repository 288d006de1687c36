"""The ``Storage`` a bot runs on: checkpoints, confirmations and the action journal, as one.

Every backend answers the same questions: where a conversation's state is saved (a
LangGraph checkpointer), where its confirmations and unguarded action runs are kept
(a ``ConfirmationStore``, an ``ActionJournal``), who this process is as the runner
of actions (a ``Runner`` whose liveness the others can check), how turns of one
conversation are put in order (``turn``), and how the other processes sharing the
database hear what happened here (``publish`` / ``subscribe``).

The embedded backends (memory, one SQLite file) serve one process: turns are
ordered by an in-process lock and there is nobody to notify. PostgreSQL serves any
number of processes on any number of hosts (``soni.storage.postgres``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver

from soni.confirmations.runners import Runner
from soni.confirmations.stores.base import ConfirmationStore
from soni.storage.journal import ActionJournal
from soni.storage.retention import CheckpointRetention

__all__ = ("Backend", "Notice", "Storage", "StorageStatus", "TurnLocks")

logger = logging.getLogger("soni.storage")

Backend = Literal["memory", "sqlite", "postgres"]


@dataclass(frozen=True, slots=True)
class Notice:
    """What one process tells the others sharing its database: ids, never content.

    Attributes:
        kind: ``turn`` (a turn of ``conversation_id`` ended), ``confirmation`` (the
            confirmation ``confirmation_id`` of ``conversation_id`` changed, from
            ``from_status`` to ``to_status``), ``action`` (a run of the action
            ``action`` that no confirmation guards ended, its outcome in
            ``to_status``) or ``reset`` (the conversation was forgotten).
        origin: The publishing process's id (``Storage.origin``).
    """

    kind: Literal["turn", "confirmation", "action", "reset"]
    conversation_id: str
    origin: str
    confirmation_id: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    user_id: str | None = None
    actor_user: str | None = None
    actor_channel: str | None = None
    action: str | None = None

    def to_json(self) -> str:
        data = {
            "k": self.kind,
            "c": self.conversation_id,
            "o": self.origin,
            "i": self.confirmation_id,
            "f": self.from_status,
            "t": self.to_status,
            "u": self.user_id,
            "a": self.actor_user,
            "h": self.actor_channel,
            "n": self.action,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Notice | None:
        """The notice in ``text``; ``None`` for anything else (logged, never raised)."""
        try:
            data = json.loads(text)
            kind = data["k"]
            if kind not in ("turn", "confirmation", "action", "reset"):
                raise ValueError(f"unknown kind {kind!r}")
            return cls(
                kind=kind,
                conversation_id=str(data["c"]),
                origin=str(data["o"]),
                confirmation_id=data.get("i"),
                from_status=data.get("f"),
                to_status=data.get("t"),
                user_id=data.get("u"),
                actor_user=data.get("a"),
                actor_channel=data.get("h"),
                action=data.get("n"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("ignored a malformed notice (%s)", exc)
            return None


@dataclass(frozen=True, slots=True)
class StorageStatus:
    """What ``soni db status`` shows: the backend, schema versions and row counts."""

    backend: Backend
    location: str
    schema: Mapping[str, int] = field(default_factory=dict)
    rows: Mapping[str, int] = field(default_factory=dict)


class TurnLocks:
    """One lock per conversation with turns in flight in this process; dropped when none are.

    asyncio.Lock wakes waiters in arrival order, which is what orders the turns of one
    conversation within a process.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str, wait: float | None = None) -> AsyncIterator[None]:
        """Hold the conversation's lock; with ``wait``, give up after that many seconds.

        Raises:
            TimeoutError: ``wait`` passed before the lock was free.
        """
        lock, users = self._locks.get(conversation_id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[conversation_id] = (lock, users + 1)
        try:
            if wait is None:
                await lock.acquire()
            else:
                async with asyncio.timeout(wait):
                    await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    def busy(self, conversation_id: str) -> bool:
        """Whether a turn of the conversation holds or waits for the lock here."""
        return conversation_id in self._locks

    def __len__(self) -> int:
        return len(self._locks)


NoticeHandler = Callable[[Notice], Any]


class Storage:
    """Where a bot keeps everything, and how its processes stay in step.

    Built by ``open_storage``; closed by ``close`` (the bot's ``aclose``).

    Attributes:
        backend: ``memory``, ``sqlite`` or ``postgres``.
        location: Where, for messages (a URL without its password, a file path).
        checkpointer: LangGraph's saver of conversation state.
        confirmations: The confirmation store.
        journal: The journal of unguarded action runs.
        runner: This process as the runner of actions.
        secret: What confirmation tokens are derived under (``None``: a random one
            for this process).
        shared: Whether other processes may use the database at the same time
            (PostgreSQL): then nothing read earlier may be trusted without the lock.
        retention: What keeps only the latest checkpoint of each conversation
            (``soni.storage.retention``; ``None`` in memory, which keeps them all).
    """

    shared = False

    def __init__(
        self,
        *,
        backend: Backend,
        location: str,
        checkpointer: BaseCheckpointSaver[Any],
        confirmations: ConfirmationStore,
        journal: ActionJournal,
        runner: Runner,
        secret: bytes | None = None,
        closers: tuple[Any, ...] = (),
        retention: CheckpointRetention | None = None,
    ) -> None:
        self.backend: Backend = backend
        self.location = location
        self.checkpointer = checkpointer
        self.confirmations = confirmations
        self.journal = journal
        self.runner = runner
        self.secret = secret
        self.retention = retention
        self.origin = runner.id
        self._locks = TurnLocks()
        self._handlers: tuple[NoticeHandler, ...] = ()
        self._closers = list(closers)
        self._closed = False

    def __repr__(self) -> str:
        return f"<Storage {self.backend} {self.location}>"

    # -- turns ------------------------------------------------------------------

    def turn(self, conversation_id: str, wait: float | None = None) -> Any:
        """An async context holding the conversation's turn: one at a time, in arrival order.

        Args:
            wait: Seconds to wait for the turn at most (``None``: as long as it
                takes; ``0``: only if it is free now).

        Raises:
            ConversationBusy: the turn did not come within ``wait``.
        """
        return self._turn(conversation_id, wait)

    @contextlib.asynccontextmanager
    async def _turn(self, conversation_id: str, wait: float | None) -> AsyncIterator[None]:
        from soni.errors import ConversationBusy

        if wait is not None and wait <= 0 and self._locks.busy(conversation_id):
            raise ConversationBusy(conversation_id)
        try:
            async with self._locks.hold(conversation_id, wait if wait and wait > 0 else None):
                yield
        except TimeoutError:
            raise ConversationBusy(conversation_id) from None

    def busy(self, conversation_id: str) -> bool:
        """Whether a turn of the conversation runs or waits in this process."""
        return self._locks.busy(conversation_id)

    # -- notices ----------------------------------------------------------------

    async def publish(self, notice: Notice) -> None:
        """Tell the other processes on the database (none for the embedded backends)."""
        return None

    def subscribe(self, handler: NoticeHandler) -> Callable[[], None]:
        """Call ``handler(notice)`` for each notice another process publishes.

        A coroutine handler is awaited; one that raises is logged and skipped.

        Returns:
            A function that unsubscribes.
        """
        self._handlers = (*self._handlers, handler)

        def unsubscribe() -> None:
            self._handlers = tuple(h for h in self._handlers if h is not handler)

        return unsubscribe

    async def _deliver(self, notice: Notice) -> None:
        if notice.origin == self.origin:
            return  # our own, back from the database
        for handler in self._handlers:
            try:
                outcome = handler(notice)
                if asyncio.iscoroutine(outcome):
                    await outcome
            except Exception:
                logger.exception("a handler of %s notices failed", notice.kind)

    # -- housekeeping -----------------------------------------------------------

    async def status(self) -> StorageStatus:
        """The backend, its schema versions and how many rows each table holds."""
        return StorageStatus(self.backend, self.location)

    async def delete_conversation(self, conversation_id: str) -> None:
        """Forget a conversation's checkpoints; the caller holds its turn (``Bot.reset``).

        On SQLite and PostgreSQL its history goes in batches, with other
        conversations' turns going between them, and its latest state last, at once.
        """
        if self.retention is None:
            await self.checkpointer.adelete_thread(conversation_id)
        else:
            await self.retention.delete_thread(conversation_id)

    async def maintain(self, now: float) -> None:
        """Retention work, called by the bot's sweeper each purge round.

        Old journal entries are purged; on SQLite and PostgreSQL, conversations still
        holding superseded checkpoints are pruned (see ``soni.storage.retention``)
        and, on SQLite, free pages are given back to the file system.
        """
        purge = getattr(self.journal, "purge", None)
        if purge is not None:
            from soni.storage.journal import RETENTION

            await purge(now - RETENTION)
        if self.retention is not None:
            await self.retention.maintain(self.turn)

    async def close(self) -> None:
        """Close the stores and connections, and stop being a runner. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.runner.close()
        await self.confirmations.close()
        await self.journal.close()
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                result = closer()
                if asyncio.iscoroutine(result):
                    await result
        self._closers.clear()
