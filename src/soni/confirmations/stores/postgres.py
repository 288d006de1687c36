"""Confirmations in PostgreSQL: one database for any number of processes and hosts.

Every change is one statement, and so one transaction: the compare-and-set
``UPDATE … WHERE status = ANY(…)``, the status it replaced, and the history rows
commit together or not at all. The row lock the ``UPDATE`` takes is what makes
"exactly one decision wins" hold across processes, as SQLite's write lock does on
one machine. Sweepers skip the rows another sweeper holds, so every worker may
sweep without doing the others' work or waiting for it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from soni.confirmations.records import (
    Actor,
    Expired,
    HistoryEntry,
    PendingConfirmation,
    Status,
)
from soni.confirmations.stores._postgres_schema import (
    COLUMNS,
    EXPIRE,
    FIND,
    INSERT,
    OPEN_SQL,
    PURGE,
    SCHEMA,
    history_entry,
    to_record,
    to_row,
    transition_sql,
)
from soni.confirmations.stores.base import Change
from soni.errors import StoreClosed
from soni.postgres import Cursor, OnPool, Pool, Versioned

__all__ = ("PostgresConfirmationStore",)


class PostgresConfirmationStore(Versioned):
    """A ``ConfirmationStore`` in a PostgreSQL database, on a pool it is given.

    Call ``setup()`` once before use (the owner of the pool does, at start or from
    ``soni db migrate``); it creates or upgrades the tables and is safe to run from
    several processes at once.

    Args:
        pool: A ``psycopg_pool.AsyncConnectionPool`` opened with
            ``kwargs={"autocommit": True, "prepare_threshold": 0}``. The store does
            not close it: ``close()`` only makes the store refuse later calls.
        purge_batch: How many records one purge statement deletes at most.
    """

    def __init__(self, pool: Pool, *, purge_batch: int = 5_000) -> None:
        if purge_batch <= 0:
            raise ValueError(f"purge_batch must be positive, got {purge_batch}")
        self.pool = pool
        self.purge_batch = purge_batch
        self._schema = SCHEMA
        self._on = OnPool(pool, lambda: StoreClosed(f"{self!r} is closed"))

    def __repr__(self) -> str:
        return f"PostgresConfirmationStore({self.pool.name!r})"

    async def close(self) -> None:
        self._on.close()

    # -- operations ----------------------------------------------------------------

    async def insert(self, record: PendingConfirmation) -> bool:
        row = to_row(record)

        async def insert(cursor: Cursor) -> bool:
            await cursor.execute(INSERT, row)
            return cursor.rowcount == 1

        return await self._on.run(insert)

    async def _select_one(self, where: str, value: str) -> PendingConfirmation | None:
        async def select(cursor: Cursor) -> PendingConfirmation | None:
            await cursor.execute(FIND + where, (value,))
            found = await cursor.fetchone()
            return None if found is None else to_record(found)

        return await self._on.run(select)

    async def get(self, confirmation_id: str) -> PendingConfirmation | None:
        return await self._select_one("id = %s", confirmation_id)

    async def find_by_token_hash(self, token_hash: str) -> PendingConfirmation | None:
        return await self._select_one("token_hash = %s", token_hash)

    async def find_open_by_key(self, key: str) -> PendingConfirmation | None:
        return await self._select_one(f"idempotency_key = %s AND status IN {OPEN_SQL}", key)

    async def transition(
        self,
        confirmation_id: str,
        change: Change,
        *,
        unexpired: bool = False,
        expired: bool = False,
        claimed_by: str | None = None,
    ) -> tuple[PendingConfirmation, Status] | None:
        sql, params = transition_sql(
            confirmation_id,
            change,
            unexpired=unexpired,
            expired=expired,
            claimed_by=claimed_by,
        )

        async def transition(cursor: Cursor) -> tuple[PendingConfirmation, Status] | None:
            await cursor.execute(sql, params)
            row = await cursor.fetchone()
            return None if row is None else (to_record(row), Status(row[-1]))

        return await self._on.run(transition)

    async def expire_due(
        self, now: datetime, actor: Actor, limit: int | None = None
    ) -> list[Expired]:
        params = {"now": now, "limit": limit, "user": actor.user_id, "channel": actor.channel}

        async def expire(cursor: Cursor) -> list[Expired]:
            await cursor.execute(EXPIRE, params)
            rows = await cursor.fetchall()
            return [Expired(cid, conv, user, Status(before)) for cid, conv, user, before in rows]

        return await self._on.run(expire)

    async def purge(self, before: datetime) -> int:
        params = {"before": before, "batch": self.purge_batch}

        async def purge_batch(cursor: Cursor) -> int:
            await cursor.execute(PURGE, params)
            return cursor.rowcount

        total = 0
        while True:
            # A connection per batch: between two batches, other work gets one.
            deleted = await self._on.run(purge_batch)
            total += deleted
            if deleted < self.purge_batch:
                return total

    async def query(
        self,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        statuses: Collection[Status] | None = None,
        limit: int | None = None,
        conversation_prefix: str | None = None,
        newest_first: bool = False,
        changed_first: bool = False,
    ) -> list[PendingConfirmation]:
        clauses: list[str] = []
        values: list[Any] = []
        if conversation_id is not None:
            clauses.append("conversation_id = %s")
            values.append(conversation_id)
        if user_id is not None:
            clauses.append("user_id = %s")
            values.append(user_id)
        if statuses is not None:
            wanted = [Status(s).value for s in statuses]
            if not wanted:
                return []
            clauses.append("status = ANY(%s::text[])")
            values.append(wanted)
        if conversation_prefix is not None:
            clauses.append("starts_with(conversation_id, %s)")
            values.append(conversation_prefix)
        sql = f"SELECT {COLUMNS} FROM confirmations"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if changed_first:
            sql += " ORDER BY updated_at DESC, id DESC"
        else:
            sql += (
                " ORDER BY created_at DESC, id DESC" if newest_first else " ORDER BY created_at, id"
            )
        if limit is not None:
            sql += " LIMIT %s"
            values.append(limit)

        async def select(cursor: Cursor) -> list[PendingConfirmation]:
            await cursor.execute(sql, values)
            return [to_record(row) for row in await cursor.fetchall()]

        return await self._on.run(select)

    async def history(self, confirmation_id: str) -> list[HistoryEntry]:
        async def select(cursor: Cursor) -> list[HistoryEntry]:
            await cursor.execute(
                "SELECT from_status, to_status, actor_user, actor_channel, at"
                " FROM confirmation_history WHERE confirmation_id = %s ORDER BY seq",
                (confirmation_id,),
            )
            return [history_entry(confirmation_id, row) for row in await cursor.fetchall()]

        return await self._on.run(select)

    # -- for benchmarks and tooling --------------------------------------------------

    async def count(self, statuses: Collection[Status] | None = None) -> int:
        """How many records there are (with one of ``statuses``)."""
        sql = "SELECT count(*) FROM confirmations"
        values: list[Any] = []
        if statuses is not None:
            sql += " WHERE status = ANY(%s::text[])"
            values.append([Status(s).value for s in statuses])

        async def count(cursor: Cursor) -> int:
            await cursor.execute(sql, values)
            row = await cursor.fetchone()
            return int(row[0]) if row else 0

        return await self._on.run(count)
