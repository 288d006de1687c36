"""At most once for actions that run without a confirmation.

An ``action`` step without ``confirm`` runs when its flow reaches it. If the process
dies after the handler ran but before the turn's checkpoint was written, the retried
turn reaches the same step again with the same idempotency key (conversation, flow
frame, step and the frame's count of moves — all read from the last checkpoint; a
turn cut off inside the handler, which LangGraph keeps standing at the step, is
carried on by the next message under the same key too). The journal
records each run under that key and a digest of its arguments, so the retry gets the
recorded result instead of a second run. A run that began but never finished (the
crash came during the handler) is stamped with the runner that claimed it: once
that runner is gone, the run is *unknown* — it is not repeated unless the action
is idempotent or a reconcile check says it did not happen, as for an approved
action.

Guarded actions do not use the journal: their confirmation records the run.
Entries are kept for ``RETENTION``; then the storage sweeper deletes them with
``purge``, in small batches found through an index — never a claim, which must
stay one small write however large the journal grows. The journal also counts each
conversation's resets, so a conversation started afresh under the same id never
meets the runs (or the idempotency keys) of the one before.

``PostgresActionJournal`` (in ``soni.storage.journal_postgres``, loaded on first use
since it imports psycopg) keeps it in PostgreSQL, for several processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from soni.errors import StoreClosed

if TYPE_CHECKING:
    from soni.storage.journal_postgres import PostgresActionJournal

__all__ = (
    "RETENTION",
    "ActionJournal",
    "JournalEntry",
    "MemoryActionJournal",
    "PostgresActionJournal",
    "SqliteActionJournal",
    "run_key",
)

RETENTION = 7 * 24 * 3600.0
"""Seconds a journal entry is kept: longer than any retry of a crashed turn."""

_PURGE_EVERY = 1000  # claims between two purges of the memory journal's old entries


def __getattr__(name: str) -> Any:
    # psycopg costs a third of a second to import: only those who use PostgreSQL pay.
    if name == "PostgresActionJournal":
        from soni.storage.journal_postgres import PostgresActionJournal

        return PostgresActionJournal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A run already claimed: running (by ``runner``), done, failed, or of unknown outcome."""

    status: Literal["running", "done", "failed", "unknown"]
    result: dict[str, Any] | None = None
    error: str | None = None
    runner: str | None = None


def run_key(idempotency_key: str, args: Mapping[str, Any]) -> str:
    """The journal key of a call: its idempotency key and what it was called with.

    The arguments are part of it because a turn retried with another message can
    reach the same step at the same count with other slot values: that is a new call.
    """
    text = json.dumps(dict(args), sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]
    return f"{idempotency_key}#{digest}"


class ActionJournal(Protocol):
    async def claim(self, key: str, runner: str) -> JournalEntry | None:
        """Claim the run of ``key`` for ``runner``: ``None`` means run it; else what is recorded."""
        ...

    async def reclaim(self, key: str, seen: JournalEntry, runner: str) -> bool:
        """Claim again a run seen ``running`` by a gone runner, or ``unknown``.

        Only if the entry is still as seen: of two callers, one gets ``True``.
        """
        ...

    async def mark_unknown(self, key: str, seen: JournalEntry) -> None:
        """Record that a run seen ``running`` by a gone runner has an unknown outcome."""
        ...

    async def finish(
        self, key: str, *, result: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Record the outcome of a claimed run."""
        ...

    async def generation(self, conversation_id: str) -> int:
        """How many times the conversation was reset: part of its run keys."""
        ...

    async def next_generation(self, conversation_id: str) -> int:
        """Count a reset: the conversation's runs start afresh."""
        ...

    async def purge(self, before: float) -> int:
        """Delete the entries last changed before ``before`` (epoch seconds); how many."""
        ...

    async def close(self) -> None: ...


class MemoryActionJournal:
    """A journal in a dict, for ``db=":memory:"`` bots and tests."""

    def __init__(self, *, retention: float = RETENTION) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, JournalEntry]] = {}
        self.retention = retention
        self._claims = 0
        self._generations: dict[str, int] = {}

    async def generation(self, conversation_id: str) -> int:
        with self._lock:
            return self._generations.get(conversation_id, 0)

    async def next_generation(self, conversation_id: str) -> int:
        with self._lock:
            self._generations[conversation_id] = self._generations.get(conversation_id, 0) + 1
            return self._generations[conversation_id]

    async def claim(self, key: str, runner: str) -> JournalEntry | None:
        now = time.time()
        with self._lock:
            self._claims += 1
            if self._claims % _PURGE_EVERY == 0:
                cutoff = now - self.retention
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= cutoff}
            found = self._entries.get(key)
            if found is not None:
                return found[1]
            self._entries[key] = (now, JournalEntry("running", runner=runner))
            return None

    async def reclaim(self, key: str, seen: JournalEntry, runner: str) -> bool:
        return self._swap(key, seen, JournalEntry("running", runner=runner))

    async def mark_unknown(self, key: str, seen: JournalEntry) -> None:
        self._swap(key, seen, JournalEntry("unknown", runner=seen.runner))

    def _swap(self, key: str, seen: JournalEntry, new: JournalEntry) -> bool:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[1] != seen:
                return False
            self._entries[key] = (time.time(), new)
            return True

    async def finish(
        self, key: str, *, result: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        entry = (
            JournalEntry("failed", error=error)
            if error is not None
            else JournalEntry("done", result=dict(result or {}))
        )
        with self._lock:
            self._entries[key] = (time.time(), entry)

    async def purge(self, before: float) -> int:
        with self._lock:
            kept = {k: v for k, v in self._entries.items() if v[0] >= before}
            purged = len(self._entries) - len(kept)
            self._entries = kept
            return purged

    async def close(self) -> None:
        return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS soni_action_runs (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    updated_at REAL NOT NULL,
    runner TEXT
);
CREATE TABLE IF NOT EXISTS soni_conversation_generations (
    conversation_id TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS soni_action_runs_updated ON soni_action_runs (updated_at);
"""
_PURGE = (
    "DELETE FROM soni_action_runs WHERE rowid IN (SELECT rowid"
    " FROM soni_action_runs WHERE updated_at < ? ORDER BY updated_at LIMIT ?)"
)
_PURGE_BATCHES_PER_LOG_COPY = 8  # purge batches between two copies of the log


class SqliteActionJournal:
    """A journal in its own SQLite file beside the bot's database (WAL, ``NORMAL``).

    Its statements run inline on the event loop rather than in a worker thread:
    each is one small write to a file no other connection of the process writes
    (the checkpointer and the confirmation store have the bot's database), with no
    fsync, so it takes microseconds — less than a hop to a thread and back. The
    exception is ``purge``, which may have millions of rows to delete: it runs on a
    connection of its own in a worker thread, one small batch at a time under the
    lock the claims take, so a claim waits at most for one batch (under a
    millisecond). Between two batches it releases the lock and pauses
    ``purge_pace`` times as long as the batch took: back to back, batches of 1,000
    kept a core busy and a claim queued behind one for milliseconds, and other
    conversations' turns ran at 1.5-2x their median, 4-5x at p99, for as long as a
    large purge lasted; paced, 1.1-1.3x and 3x (``bench/storage.py``).

    Args:
        path: The journal's file.
        retention: Seconds an entry is kept; the sweeper purges what is older.
        busy_timeout: Seconds to wait for another connection's write lock.
        purge_batch: How many entries one purge transaction deletes at most.
        purge_pace: Seconds of pause per second of batch between two batches.
    """

    def __init__(
        self,
        path: str,
        *,
        retention: float = RETENTION,
        busy_timeout: float = 5.0,
        purge_batch: int = 100,
        purge_pace: float = 2.0,
    ) -> None:
        if purge_batch <= 0 or purge_pace < 0:
            raise ValueError(
                "purge_batch must be positive and purge_pace not negative,"
                f" got {purge_batch} and {purge_pace}"
            )
        self.path = path
        self.retention = retention
        self.purge_batch = purge_batch
        self.purge_pace = purge_pace
        self._busy_timeout = busy_timeout
        self._conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL: every write survives a crash of the process, which is what a
        # retried turn is about. A power cut may lose the last ones, and with them
        # an unconfirmed action could run again: what must never run twice belongs
        # behind a confirmation, whose decisions and claims are flushed (FULL).
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(soni_action_runs)")}
        if "runner" not in columns:  # a journal written before runs recorded their runner
            self._conn.execute("ALTER TABLE soni_action_runs ADD COLUMN runner TEXT")
        self._lock = threading.Lock()
        self._closed = False

    def _call(self, sql: str, *params: Any) -> sqlite3.Cursor:
        with self._lock:
            if self._closed:
                raise StoreClosed("the action journal is closed")
            return self._conn.execute(sql, params)

    async def generation(self, conversation_id: str) -> int:
        row = self._call(
            "SELECT generation FROM soni_conversation_generations WHERE conversation_id = ?",
            conversation_id,
        ).fetchone()
        return int(row[0]) if row else 0

    async def next_generation(self, conversation_id: str) -> int:
        self._call(
            "INSERT INTO soni_conversation_generations (conversation_id, generation)"
            " VALUES (?, 1) ON CONFLICT(conversation_id)"
            " DO UPDATE SET generation = generation + 1",
            conversation_id,
        )
        return await self.generation(conversation_id)

    async def claim(self, key: str, runner: str) -> JournalEntry | None:
        return self._claim(key, runner)

    def _claim(self, key: str, runner: str) -> JournalEntry | None:
        now = time.time()
        inserted = self._call(
            "INSERT OR IGNORE INTO soni_action_runs (key, status, updated_at, runner)"
            " VALUES (?, ?, ?, ?)",
            key,
            "running",
            now,
            runner,
        )
        if inserted.rowcount == 1:
            return None
        row = self._call(
            "SELECT status, result, error, runner FROM soni_action_runs WHERE key = ?", key
        ).fetchone()
        if row is None:  # purged between the two statements: claim it again
            return self._claim(key, runner)
        status, result, error, owner = row
        return JournalEntry(status, json.loads(result) if result else None, error, owner)

    async def reclaim(self, key: str, seen: JournalEntry, runner: str) -> bool:
        return self._swap(key, seen, "running", runner)

    async def mark_unknown(self, key: str, seen: JournalEntry) -> None:
        self._swap(key, seen, "unknown", seen.runner)

    def _swap(self, key: str, seen: JournalEntry, status: str, runner: str | None) -> bool:
        changed = self._call(
            "UPDATE soni_action_runs SET status = ?, runner = ?, updated_at = ?"
            " WHERE key = ? AND status = ? AND coalesce(runner, '') = ?",
            status,
            runner,
            time.time(),
            key,
            seen.status,
            seen.runner or "",
        )
        return changed.rowcount == 1

    async def finish(
        self, key: str, *, result: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        status = "failed" if error is not None else "done"
        text = None if error is not None else json.dumps(dict(result or {}), default=str)
        self._call(
            "UPDATE soni_action_runs"
            " SET status = ?, result = ?, error = ?, updated_at = ?, runner = NULL WHERE key = ?",
            status,
            text,
            error,
            time.time(),
            key,
        )

    async def purge(self, before: float) -> int:
        """Delete the entries last changed before ``before`` (epoch seconds).

        Returns:
            How many entries were deleted.
        """
        if self._closed:
            raise StoreClosed("the action journal is closed")
        if self.path == ":memory:":  # no other connection can see it
            return await asyncio.to_thread(self._purge, self._conn, before)
        return await asyncio.to_thread(self._purge_on_own_connection, before)

    def _purge_on_own_connection(self, before: float) -> int:
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            # Its commits do not copy the log into the database under the lock
            # (SQLite's auto-checkpoint): ``_purge`` does it every few batches, outside.
            conn.execute("PRAGMA wal_autocheckpoint=0")
            return self._purge(conn, before)
        finally:
            conn.close()

    def _purge(self, conn: sqlite3.Connection, before: float) -> int:
        # The batches and the pauses between them stay in this worker thread: one
        # hop to it for the whole purge rather than one per batch, each queued
        # behind whatever the loop runs, and no commit ever runs on the loop.
        total = 0
        batches = 0
        while True:
            started = time.perf_counter()
            deleted = self._purge_batch(conn, before)
            total += deleted
            batches += 1
            own = conn is not self._conn
            if own and (deleted < self.purge_batch or batches % _PURGE_BATCHES_PER_LOG_COPY == 0):
                # Outside the lock, and without blocking writers: the log a large
                # purge writes does not fall to the next claim to copy back.
                _copy_log(conn)
            if deleted < self.purge_batch:
                return total
            self._pause((time.perf_counter() - started) * self.purge_pace)

    def _pause(self, seconds: float) -> None:
        """Between two batches of a purge, holding nothing: claims go, the core rests."""
        time.sleep(seconds)

    def _purge_batch(self, conn: sqlite3.Connection, before: float) -> int:
        # One short transaction under the lock the loop's statements take: a claim
        # meanwhile waits on that lock and goes the moment the batch commits.
        # Waiting on SQLite's lock instead, it would sleep in SQLite's back-off (up
        # to 100 ms at a time) and could miss every gap between batches.
        with self._lock:
            if self._closed:
                raise StoreClosed("the action journal is closed")
            return conn.execute(_PURGE, (before, self.purge_batch)).rowcount

    async def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()


def _copy_log(conn: sqlite3.Connection) -> None:
    """Copy what the log holds into the file; never waits for, nor blocks, anyone."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
