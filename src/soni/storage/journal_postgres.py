"""The action journal in PostgreSQL, for several processes on one database.

The same semantics as ``SqliteActionJournal`` (see ``soni.storage.journal``): a
claim is an ``INSERT … ON CONFLICT DO NOTHING`` — the primary key decides which of
any number of claimants, in any process, runs the action — and every swap of a
claim is a compare-and-set on its status and runner. Old entries are not purged
by claims: the storage sweeper calls ``purge``, which deletes in small indexed
batches.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from soni.errors import StoreClosed
from soni.postgres import (
    RELAXED,
    Cursor,
    OnPool,
    Pool,
    Schema,
    Versioned,
)
from soni.storage.journal import RETENTION, JournalEntry

__all__ = ("PostgresActionJournal",)

SCHEMA = Schema(
    component="journal",
    version=1,
    create=(
        """
        CREATE TABLE IF NOT EXISTS soni_action_runs (
            key         text PRIMARY KEY,
            status      text NOT NULL,
            result      text,
            error       text,
            updated_at  timestamptz NOT NULL,
            runner      text
        )
        """,
        # What purges find old entries by, however many there are.
        "CREATE INDEX IF NOT EXISTS soni_action_runs_updated ON soni_action_runs (updated_at)",
        """
        CREATE TABLE IF NOT EXISTS soni_conversation_generations (
            conversation_id  text PRIMARY KEY,
            generation       integer NOT NULL
        )
        """,
    ),
    migrations={},
    tables=("soni_action_runs", "soni_conversation_generations"),
)

# Every write commits without waiting for its flush (``RELAXED``), as the SQLite
# journal writes with ``synchronous=NORMAL``: it survives a crash of the process,
# which is what a retried turn is about. A crash of the database server may lose
# the last ones, and with them an unconfirmed action could run again: what must
# never run twice belongs behind a confirmation, whose decisions are flushed.
_CLAIM = (
    "INSERT INTO soni_action_runs (key, status, updated_at, runner)"
    f" SELECT %s, 'running', %s, %s FROM {RELAXED} ON CONFLICT (key) DO NOTHING"
)
_READ = "SELECT status, result, error, runner FROM soni_action_runs WHERE key = %s"
_SWAP = (
    f"UPDATE soni_action_runs SET status = %s, runner = %s, updated_at = %s FROM {RELAXED}"
    " WHERE key = %s AND status = %s AND coalesce(runner, '') = %s"
)
_FINISH = (
    "UPDATE soni_action_runs SET status = %s, result = %s, error = %s, updated_at = %s,"
    f" runner = NULL FROM {RELAXED} WHERE key = %s"
)
_NEXT_GENERATION = (
    "INSERT INTO soni_conversation_generations (conversation_id, generation)"
    f" SELECT %s, 1 FROM {RELAXED} ON CONFLICT (conversation_id)"
    " DO UPDATE SET generation = soni_conversation_generations.generation + 1"
    " RETURNING generation"
)
# One batch of a purge, the oldest first through the index; rows another purger
# holds are skipped rather than waited for. The keys go as one array, so each row
# is then found by its primary key whatever the table's size (as a join, the
# planner may scan the whole table for every batch).
_PURGE = f"""
DELETE FROM soni_action_runs USING {RELAXED} WHERE key = ANY(ARRAY(
    SELECT key FROM soni_action_runs WHERE updated_at < %s
    ORDER BY updated_at LIMIT %s FOR UPDATE SKIP LOCKED
))
"""


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class PostgresActionJournal(Versioned):
    """An ``ActionJournal`` in a PostgreSQL database, on a pool it is given.

    Call ``setup()`` once before use, as for ``PostgresConfirmationStore``.

    Args:
        pool: A ``psycopg_pool.AsyncConnectionPool`` opened with
            ``kwargs={"autocommit": True, "prepare_threshold": 0}``; not closed by
            ``close()``, which only makes the journal refuse later calls.
        retention: Seconds an entry is kept; the sweeper purges what is older.
        purge_batch: How many entries one purge statement deletes at most.
        purge_pace: Seconds of pause per second of batch between two batches.
    """

    def __init__(
        self,
        pool: Pool,
        *,
        retention: float = RETENTION,
        purge_batch: int = 500,
        purge_pace: float = 2.0,
    ) -> None:
        if purge_batch <= 0 or purge_pace < 0:
            raise ValueError(
                "purge_batch must be positive and purge_pace not negative,"
                f" got {purge_batch} and {purge_pace}"
            )
        self.pool = pool
        self.retention = retention
        self.purge_batch = purge_batch
        self.purge_pace = purge_pace
        self._schema = SCHEMA
        self._on = OnPool(pool, lambda: StoreClosed("the action journal is closed"))

    def __repr__(self) -> str:
        return f"PostgresActionJournal({self.pool.name!r})"

    async def close(self) -> None:
        self._on.close()

    # -- the journal ---------------------------------------------------------------

    async def generation(self, conversation_id: str) -> int:
        async def read(cursor: Cursor) -> int:
            await cursor.execute(
                "SELECT generation FROM soni_conversation_generations WHERE conversation_id = %s",
                (conversation_id,),
            )
            row = await cursor.fetchone()
            return int(row[0]) if row else 0

        return await self._on.run(read)

    async def next_generation(self, conversation_id: str) -> int:
        async def count(cursor: Cursor) -> int:
            await cursor.execute(_NEXT_GENERATION, (conversation_id,))
            row = await cursor.fetchone()
            assert row is not None  # an upsert with RETURNING returns its row
            return int(row[0])

        return await self._on.run(count)

    async def claim(self, key: str, runner: str) -> JournalEntry | None:
        async def claim(cursor: Cursor) -> JournalEntry | None:
            while True:
                await cursor.execute(_CLAIM, (key, _moment(time.time()), runner))
                if cursor.rowcount == 1:
                    return None
                await cursor.execute(_READ, (key,))
                row = await cursor.fetchone()
                if row is not None:
                    status, result, error, owner = row
                    return JournalEntry(
                        status, json.loads(result) if result else None, error, owner
                    )
                # Purged between the two statements: claim it again.

        return await self._on.run(claim)

    async def reclaim(self, key: str, seen: JournalEntry, runner: str) -> bool:
        return await self._swap(key, seen, "running", runner)

    async def mark_unknown(self, key: str, seen: JournalEntry) -> None:
        await self._swap(key, seen, "unknown", seen.runner)

    async def _swap(self, key: str, seen: JournalEntry, status: str, runner: str | None) -> bool:
        params = (status, runner, _moment(time.time()), key, seen.status, seen.runner or "")

        async def swap(cursor: Cursor) -> bool:
            await cursor.execute(_SWAP, params)
            return cursor.rowcount == 1

        return await self._on.run(swap)

    async def finish(
        self, key: str, *, result: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        status = "failed" if error is not None else "done"
        text = None if error is not None else json.dumps(dict(result or {}), default=str)
        params = (status, text, error, _moment(time.time()), key)

        async def finish(cursor: Cursor) -> None:
            await cursor.execute(_FINISH, params)

        await self._on.run(finish)

    async def purge(self, before: float) -> int:
        """Delete the entries last changed before ``before`` (epoch seconds).

        In batches of ``purge_batch``, each its own transaction on a connection
        taken for it alone, so a large purge never holds many locks, nor a
        connection, for long. Between two batches it pauses ``purge_pace`` times as
        long as the batch took: back to back, the server spent a core on the purge
        for as long as it lasted, and the turns of every process sharing the
        database queued behind it (``bench/storage.py``).

        Returns:
            How many entries were deleted.
        """
        params = (_moment(before), self.purge_batch)

        async def purge_batch(cursor: Cursor) -> int:
            await cursor.execute(_PURGE, params)
            return cursor.rowcount

        total = 0
        while True:
            started = time.perf_counter()
            deleted = await self._on.run(purge_batch)
            total += deleted
            if deleted < self.purge_batch:
                return total
            await self._pause((time.perf_counter() - started) * self.purge_pace)

    async def _pause(self, seconds: float) -> None:
        """Between two batches of a purge, holding no connection: the server's core rests."""
        await asyncio.sleep(seconds)
