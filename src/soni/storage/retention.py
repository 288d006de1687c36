"""Retention: a conversation keeps its latest checkpoint, never its whole history.

LangGraph saves a new checkpoint at the end of every turn and keeps the old ones
for time travel, which soni does not offer: what a conversation shows (its state,
its last replies, what it waits for) is read from the latest checkpoint and its
pending writes alone. Kept, the history made one conversation of 10,000 turns
weigh 43.5 MB for a state of 2.65 KB, and deleting it cost time in proportion.

The policy, the same on SQLite and PostgreSQL:

- **Pruned in the turn's own write.** A trigger on the checkpoint table deletes,
  in the statement that inserts a turn's checkpoint, up to ``IN_WRITE`` older
  checkpoints of its conversation with their writes (and on PostgreSQL the blobs
  of channel versions it superseded). It is atomic with the insert — a reader sees
  the old state or the new one, never neither — costs no extra commit or round
  trip, and needs no lock of its own: the turn writing holds the conversation's
  turn. A turn in flight reads its checkpoint when it starts and writes only at its
  end (``durability="exit"``), so nothing it needs is older than what it replaces.
  Pruning by the sweeper instead would let a busy conversation grow for a whole
  round and scan every conversation to find the crowded ones.
- **Caught up by the sweeper.** Conversations written before retention existed
  (or that outgrew the trigger's bound) are pruned by ``prune`` in batches, each
  under the conversation's turn taken without waiting: one whose turn runs is
  skipped until the next round.
- **Deleted in batches.** ``delete_thread`` (a reset) removes the superseded
  history oldest first, in batches that let every other conversation's turns go
  between them, and the latest checkpoint last, in one short transaction: readers
  see the conversation as it was until it is gone at once.
- **Free pages go back** (SQLite): new files are made with
  ``auto_vacuum=INCREMENTAL``, and ``vacuum`` releases free pages a step at a time,
  then truncates the write-ahead log. A file made before cannot be switched while
  in use: its free pages are reused by later writes but the file does not shrink.
  To shrink it once, stop soni and run
  ``sqlite3 state.db 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'``.

The SQLite work runs on the checkpointer's own connection, one short statement
batch at a time under the checkpointer's lock: asyncio's lock queues a turn
behind at most one batch, in arrival order, where a second connection would make
the turn wait on SQLite's file lock, whose waiters sleep in a back-off of up to
100 ms and can miss every gap between batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from soni.errors import ConversationBusy

if TYPE_CHECKING:
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

__all__ = ("IN_WRITE", "CheckpointRetention", "SqliteRetention", "TurnGate")

logger = logging.getLogger("soni.storage")

IN_WRITE = 8
"""Older checkpoints a turn's write deletes at most: its parent, and a few of a backlog."""

TurnGate = Callable[[str, float], AbstractAsyncContextManager[Any]]
"""``Storage.turn``: holds a conversation's turn; ``wait=0`` raises ``ConversationBusy``."""

Group = tuple[str, str]
"""A conversation's checkpoints in one namespace: ``(thread_id, checkpoint_ns)``."""


class CheckpointRetention(ABC):
    """Keeps the latest checkpoint of each conversation; the SQL is the backend's.

    Args:
        batch: Checkpoints (or writes, or blobs) one statement deletes at most.
        page: Conversations one look for crowded ones reads at most.
    """

    def __init__(self, *, batch: int, page: int = 1_000) -> None:
        if batch <= 0 or page <= 0:
            raise ValueError(f"batch and page must be positive, got {batch} and {page}")
        self.batch = batch
        self.page = page

    # -- what each backend provides --------------------------------------------------

    @abstractmethod
    async def setup(self) -> None:
        """Install the in-write pruning (the trigger); idempotent."""

    @abstractmethod
    async def _groups(self, after: Group | None, limit: int) -> list[tuple[str, str, int]]:
        """The next ``limit`` groups after ``after`` in key order, with their checkpoints."""

    @abstractmethod
    async def _namespaces(self, thread_id: str) -> list[str]:
        """The namespaces the conversation has checkpoints in."""

    @abstractmethod
    async def _drop_older(self, thread_id: str, namespace: str) -> int:
        """One batch: delete what the group's latest checkpoint superseded.

        Returns:
            The most rows one of its statements deleted (``< batch``: nothing is left).
        """

    @abstractmethod
    async def _drop_rest(self, thread_id: str) -> None:
        """In one transaction, delete whatever is left of the conversation."""

    # -- the policy ------------------------------------------------------------------

    async def prune_thread(self, thread_id: str, namespace: str = "") -> int:
        """Delete everything one group's latest checkpoint superseded, batch by batch.

        The caller holds the conversation's turn.

        Returns:
            How many batches it took.
        """
        batches = 1
        while await self._drop_older(thread_id, namespace) >= self.batch:
            batches += 1
            await asyncio.sleep(0)  # others' turns go between two batches
        return batches

    async def delete_thread(self, thread_id: str) -> None:
        """Forget the conversation: its history in batches, then its latest state at once.

        The caller holds the conversation's turn (``Bot.reset`` does).
        """
        for namespace in await self._namespaces(thread_id):
            await self.prune_thread(thread_id, namespace)
        await self._drop_rest(thread_id)

    async def prune(self, turn: TurnGate) -> int:
        """Prune every conversation with more than its latest checkpoint; the sweeper's part.

        Each batch runs under the conversation's turn, taken only if free: a
        conversation with a turn running keeps its history until the next round.

        Returns:
            How many conversations were pruned.
        """
        pruned = 0
        after: Group | None = None
        while True:
            groups = await self._groups(after, self.page)
            for thread_id, namespace, count in groups:
                if count > 1 and await self._prune_if_free(turn, thread_id, namespace):
                    pruned += 1
            if len(groups) < self.page:
                return pruned
            after = groups[-1][:2]
            await asyncio.sleep(0)

    async def _prune_if_free(self, turn: TurnGate, thread_id: str, namespace: str) -> bool:
        while True:
            try:
                async with turn(thread_id, 0):
                    deleted = await self._drop_older(thread_id, namespace)
            except ConversationBusy:
                return False
            if deleted < self.batch:
                return True
            await asyncio.sleep(0)

    async def maintain(self, turn: TurnGate) -> None:
        """What the sweeper does each purge round (``Storage.maintain``)."""
        await self.prune(turn)


# -- SQLite -------------------------------------------------------------------------

_SQLITE_OLDER = """
    SELECT checkpoint_id FROM checkpoints
    WHERE thread_id = NEW.thread_id AND checkpoint_ns = NEW.checkpoint_ns
    AND checkpoint_id < NEW.checkpoint_id ORDER BY checkpoint_id DESC LIMIT {limit}
"""

SQLITE_TRIGGER = f"""
CREATE TRIGGER IF NOT EXISTS soni_keep_latest_checkpoint AFTER INSERT ON checkpoints
BEGIN
    DELETE FROM writes
    WHERE thread_id = NEW.thread_id AND checkpoint_ns = NEW.checkpoint_ns
    AND checkpoint_id IN ({_SQLITE_OLDER.format(limit=IN_WRITE)});
    DELETE FROM checkpoints
    WHERE thread_id = NEW.thread_id AND checkpoint_ns = NEW.checkpoint_ns
    AND checkpoint_id IN ({_SQLITE_OLDER.format(limit=IN_WRITE)});
END
"""
"""Prunes in the statement that saves a turn's checkpoint (see the module's docstring)."""

_SQLITE_LATEST = (
    "SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ?"
)
_SQLITE_DROP_WRITES = """
DELETE FROM writes WHERE rowid IN (
    SELECT rowid FROM writes
    WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ? LIMIT ?
)
"""
_SQLITE_DROP_CHECKPOINTS = """
DELETE FROM checkpoints WHERE rowid IN (
    SELECT rowid FROM checkpoints
    WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?
    ORDER BY checkpoint_id LIMIT ?
)
"""
_SQLITE_GROUPS = """
SELECT thread_id, checkpoint_ns, count(*) FROM checkpoints {where}
GROUP BY thread_id, checkpoint_ns ORDER BY thread_id, checkpoint_ns LIMIT ?
"""
_INCREMENTAL = 2  # PRAGMA auto_vacuum's answer for INCREMENTAL


class SqliteRetention(CheckpointRetention):
    """Retention on the SQLite file of an ``AsyncSqliteSaver`` (tables ``checkpoints``, ``writes``).

    Args:
        saver: The checkpointer, set up (its tables exist).
        path: Its file, for the write-ahead log's truncation on a connection of its own.
        batch: Checkpoints one batch deletes at most (~15 µs each).
        vacuum_pages: Free pages one step of ``vacuum`` gives back at most.
        page: Conversations one look for crowded ones reads at most.
    """

    def __init__(
        self,
        saver: AsyncSqliteSaver,
        path: str,
        *,
        batch: int = 100,
        vacuum_pages: int = 256,
        page: int = 1_000,
    ) -> None:
        super().__init__(batch=batch, page=page)
        if vacuum_pages <= 0:
            raise ValueError(f"vacuum_pages must be positive, got {vacuum_pages}")
        self.saver = saver
        self.path = path
        self.vacuum_pages = vacuum_pages
        self._told_no_vacuum = False

    async def setup(self) -> None:
        async with self._transaction() as conn:
            await conn.execute(SQLITE_TRIGGER)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The saver's connection under its lock; what runs in it commits at the end."""
        conn = self.saver.conn
        async with self.saver.lock:
            try:
                yield conn
                await conn.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    await conn.rollback()
                raise

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self.saver.lock, self.saver.conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _groups(self, after: Group | None, limit: int) -> list[tuple[str, str, int]]:
        if after is None:
            rows = await self._rows(_SQLITE_GROUPS.format(where=""), (limit,))
        else:
            where = "WHERE (thread_id, checkpoint_ns) > (?, ?)"
            rows = await self._rows(_SQLITE_GROUPS.format(where=where), (*after, limit))
        return [(str(t), str(n), int(c)) for t, n, c in rows]

    async def _namespaces(self, thread_id: str) -> list[str]:
        rows = await self._rows(
            "SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = ?", (thread_id,)
        )
        return [str(row[0]) for row in rows]

    async def _drop_older(self, thread_id: str, namespace: str) -> int:
        async with self._transaction() as conn:
            async with conn.execute(_SQLITE_LATEST, (thread_id, namespace)) as cursor:
                row = await cursor.fetchone()
            if row is None or row[0] is None:
                return 0
            changed = 0
            for sql in (_SQLITE_DROP_WRITES, _SQLITE_DROP_CHECKPOINTS):
                async with conn.execute(sql, (thread_id, namespace, row[0], self.batch)) as c:
                    changed = max(changed, c.rowcount)
            return changed

    async def _drop_rest(self, thread_id: str) -> None:
        async with self._transaction() as conn:
            # The checkpoint first: from this commit on, the conversation reads as new.
            await conn.execute("DELETE FROM checkpoints WHERE thread_id = ?", (thread_id,))
            await conn.execute("DELETE FROM writes WHERE thread_id = ?", (thread_id,))

    async def maintain(self, turn: TurnGate) -> None:
        await self.prune(turn)
        await self.vacuum()

    async def vacuum(self) -> int:
        """Give the file's free pages back, ``vacuum_pages`` a step; then empty the log.

        Returns:
            How many pages were given back.
        """
        (mode,) = (await self._rows("PRAGMA auto_vacuum"))[0]
        released = 0
        free = await self._free_pages()
        if mode == _INCREMENTAL:
            while free:
                # Each step is a short transaction of its own. The pragma gives back a
                # page per row read: every row is read.
                await self._rows(f"PRAGMA incremental_vacuum({min(free, self.vacuum_pages)})")
                left = await self._free_pages()
                if left >= free:
                    break  # nothing moved: do not spin
                released, free = released + free - left, left
                await asyncio.sleep(0)
        elif free and not self._told_no_vacuum:
            self._told_no_vacuum = True
            logger.info(
                "%s was made before soni gave free pages back: it reuses them but does not"
                " shrink. To shrink it once, stop soni and run"
                " `sqlite3 %s 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'`",
                self.path,
                self.path,
            )
        await asyncio.to_thread(_truncate_log, self.path)
        return released

    async def _free_pages(self) -> int:
        return int((await self._rows("PRAGMA freelist_count"))[0][0])


def _truncate_log(path: str) -> None:
    """Copy the write-ahead log into the file and empty it, on a connection of its own.

    First a passive checkpoint, which never blocks a writer, does the copying; the
    truncating one after it then has little left to copy while it holds writers
    off. Busy (a writer, or a reader of an older snapshot), it gives up at once:
    the next round tries again.
    """
    conn = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError as exc:
        logger.debug("the write-ahead log of %s was not truncated: %s", path, exc)
    finally:
        conn.close()
