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

On SQLite, batches run in a worker thread on a connection of the retention's
own, each holding the checkpointer's lock while it writes (see ``SqliteRetention``);
on PostgreSQL, on the storage's pool, never through the checkpointer's lock
(see ``soni.storage.retention_postgres``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from soni.errors import ConversationBusy, StoreClosed

if TYPE_CHECKING:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

__all__ = ("IN_WRITE", "CheckpointRetention", "SqliteRetention", "TurnGate")

logger = logging.getLogger("soni.storage")

IN_WRITE = 8
"""Older checkpoints a turn's write deletes at most: its parent, and a few of a backlog."""

TurnGate = Callable[[str, float], AbstractAsyncContextManager[Any]]
"""``Storage.turn``: holds a conversation's turn; ``wait=0`` raises ``ConversationBusy``."""

T = TypeVar("T")

Group = tuple[str, str]
"""A conversation's checkpoints in one namespace: ``(thread_id, checkpoint_ns)``."""


class CheckpointRetention(ABC):
    """Keeps the latest checkpoint of each conversation; the SQL is the backend's.

    Between two batches it pauses ``pace`` times as long as the batch took, so that
    however long a history, the turns of other conversations have the checkpointer
    (and the database) to themselves most of the time: back to back, each batch
    would be queued ahead of nearly every step of every turn.

    Args:
        batch: Checkpoints (or writes, or blobs) one statement deletes at most.
        page: Conversations one look for crowded ones reads at most.
        pace: Seconds of pause per second of batch.
    """

    def __init__(self, *, batch: int, page: int = 1_000, pace: float = 2.0) -> None:
        if batch <= 0 or page <= 0 or pace < 0:
            raise ValueError(
                f"batch and page must be positive, pace not negative: {batch}, {page}, {pace}"
            )
        self.batch = batch
        self.page = page
        self.pace = pace

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
        while True:
            started = time.perf_counter()
            if await self._drop_older(thread_id, namespace) < self.batch:
                return batches
            batches += 1
            await self._pause(started)

    async def _pause(self, started: float) -> None:
        """Let others' turns go after a batch that began at ``started``."""
        await asyncio.sleep((time.perf_counter() - started) * self.pace)

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
            started = time.perf_counter()
            try:
                async with turn(thread_id, 0):
                    deleted = await self._drop_older(thread_id, namespace)
            except ConversationBusy:
                return False
            if deleted < self.batch:
                return True
            await self._pause(started)

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
_WRITES_PER_LOG_COPY = 8  # batches (~50-130 log frames each) between two copies of the log


class SqliteRetention(CheckpointRetention):
    """Retention on the SQLite file of an ``AsyncSqliteSaver`` (tables ``checkpoints``, ``writes``).

    Its statements run in worker threads on a connection of its own, with
    ``synchronous=NORMAL``: a batch lost in a power cut only leaves rows for the
    next round, and its commit need not wait for a flush as a turn's does. A reset's
    last transaction, after which the conversation is gone, is flushed. Whatever
    writes holds the checkpointer's lock while it runs: a turn then waits for at
    most one batch, in arrival order, instead of meeting SQLite's file lock, whose
    waiters sleep in a back-off of up to 100 ms and can miss every gap between
    batches. Reads (looking for crowded conversations) hold nothing: WAL readers
    never block a writer.

    Its commits never copy the write-ahead log into the file (SQLite's automatic
    checkpoint, which would run under the checkpointer's lock): every few batches
    it copies the log itself, holding no lock, so that the log stays short and no
    turn's commit has to copy what the batches wrote.

    Args:
        saver: The checkpointer, set up (its tables exist).
        path: Its file.
        batch: Checkpoints (or writes) one statement deletes at most.
        vacuum_pages: Free pages one step of ``vacuum`` gives back at most.
        page: Conversations one look for crowded ones reads at most.
        busy_timeout: Seconds to wait for another connection's write lock (the
            confirmation store's, or another process's).
    """

    def __init__(
        self,
        saver: AsyncSqliteSaver,
        path: str,
        *,
        batch: int = 32,
        vacuum_pages: int = 64,
        page: int = 1_000,
        busy_timeout: float = 5.0,
    ) -> None:
        super().__init__(batch=batch, page=page)
        if vacuum_pages <= 0:
            raise ValueError(f"vacuum_pages must be positive, got {vacuum_pages}")
        self.saver = saver
        self.path = path
        self.vacuum_pages = vacuum_pages
        self._busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._conn_lock = threading.Lock()  # ``close`` may come from any thread
        # One call at a time on the connection, queued here rather than in a worker
        # thread: a batch must not hold the checkpointer's lock while it waits for
        # another call (a copy of the log, say) to finish.
        self._queue = asyncio.Lock()
        self._uncopied = 0  # batches written since the log was last copied
        self._closed = False
        self._told_no_vacuum = False

    async def setup(self) -> None:
        await self._run(lambda conn: conn.execute(SQLITE_TRIGGER), write=True)

    def close(self) -> None:
        """Close its connection (``Storage.close`` does); later calls raise ``StoreClosed``."""
        with self._conn_lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    async def _run(self, work: Callable[[sqlite3.Connection], T], *, write: bool = False) -> T:
        """``work`` on the connection in a worker thread; a write under the saver's lock."""

        def call() -> T:
            with self._conn_lock:
                if self._closed:
                    raise StoreClosed("the storage is closed")
                if self._conn is None:
                    self._conn = _connect(self.path, self._busy_timeout)
                return work(self._conn)

        async with self._queue:
            if not write:
                return await asyncio.to_thread(call)
            async with self.saver.lock:
                return await asyncio.to_thread(call)

    async def _groups(self, after: Group | None, limit: int) -> list[tuple[str, str, int]]:
        params: tuple[Any, ...] = (limit,)
        sql = _SQLITE_GROUPS.format(where="")
        if after is not None:
            params = (*after, limit)
            sql = _SQLITE_GROUPS.format(where="WHERE (thread_id, checkpoint_ns) > (?, ?)")

        def read(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(sql, params).fetchall()

        rows = await self._run(read)
        return [(str(t), str(n), int(c)) for t, n, c in rows]

    async def _namespaces(self, thread_id: str) -> list[str]:
        sql = "SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = ?"
        rows = await self._run(lambda conn: conn.execute(sql, (thread_id,)).fetchall())
        return [str(row[0]) for row in rows]

    async def _drop_older(self, thread_id: str, namespace: str) -> int:
        def drop(conn: sqlite3.Connection) -> int:
            with _transaction(conn):
                (latest,) = conn.execute(_SQLITE_LATEST, (thread_id, namespace)).fetchone()
                if latest is None:
                    return 0
                params = (thread_id, namespace, latest, self.batch)
                writes = conn.execute(_SQLITE_DROP_WRITES, params).rowcount
                return max(writes, conn.execute(_SQLITE_DROP_CHECKPOINTS, params).rowcount)

        deleted = await self._run(drop, write=True)
        await self._wrote()
        return deleted

    async def _wrote(self) -> None:
        """Count a batch written; every few, copy the log into the file, holding no lock."""
        self._uncopied += 1
        if self._uncopied >= _WRITES_PER_LOG_COPY:
            self._uncopied = 0
            await self._run(_copy_log)

    async def _drop_rest(self, thread_id: str) -> None:
        def drop(conn: sqlite3.Connection) -> None:
            conn.execute("PRAGMA synchronous=FULL")  # a reset is not redone: flushed
            try:
                with _transaction(conn):
                    # The checkpoint first: from this commit on, the conversation reads as new.
                    conn.execute("DELETE FROM checkpoints WHERE thread_id = ?", (thread_id,))
                    conn.execute("DELETE FROM writes WHERE thread_id = ?", (thread_id,))
            finally:
                conn.execute("PRAGMA synchronous=NORMAL")

        await self._run(drop, write=True)

    async def maintain(self, turn: TurnGate) -> None:
        await self.prune(turn)
        await self.vacuum()

    async def vacuum(self) -> int:
        """Give the file's free pages back, ``vacuum_pages`` a step; then empty the log.

        Returns:
            How many pages were given back.
        """
        mode, free = await self._run(_vacuum_state)
        released = 0
        if mode == _INCREMENTAL:
            while free:
                started = time.perf_counter()
                step = functools.partial(_vacuum_step, pages=min(free, self.vacuum_pages))
                left = await self._run(step, write=True)
                await self._wrote()
                if left >= free:
                    break  # nothing moved: do not spin
                released, free = released + free - left, left
                await self._pause(started)
        elif free and not self._told_no_vacuum:
            self._told_no_vacuum = True
            logger.info(
                "%s was made before soni gave free pages back: it reuses them but does not"
                " shrink. To shrink it once, stop soni and run"
                " `sqlite3 %s 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'`",
                self.path,
                self.path,
            )
        await self._run(_truncate_log)
        return released


def _connect(path: str, busy_timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # ``_copy_log`` does it, outside the lock
    return conn


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _vacuum_state(conn: sqlite3.Connection) -> tuple[int, int]:
    (mode,) = conn.execute("PRAGMA auto_vacuum").fetchone()
    (free,) = conn.execute("PRAGMA freelist_count").fetchone()
    return int(mode), int(free)


def _vacuum_step(conn: sqlite3.Connection, pages: int) -> int:
    """Give back up to ``pages`` free pages in one transaction; how many are left."""
    # The pragma gives back a page per row stepped through: every row is read.
    conn.execute(f"PRAGMA incremental_vacuum({int(pages)})").fetchall()
    return int(conn.execute("PRAGMA freelist_count").fetchone()[0])


def _copy_log(conn: sqlite3.Connection) -> None:
    """Copy what the log holds into the file; never waits for, nor blocks, anyone."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _truncate_log(conn: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the file and empty it.

    First a passive checkpoint, which never blocks a writer, does the copying; the
    truncating one after it then has little left to copy while it holds writers
    off, and gives up at once if one is writing (or a reader is on an older
    snapshot): the next round tries again.
    """
    _copy_log(conn)
    (previous,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute("PRAGMA busy_timeout=50")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(previous)}")
