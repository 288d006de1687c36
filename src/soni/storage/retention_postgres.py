"""Retention on PostgreSQL: LangGraph's checkpoints, their writes and their blobs.

The policy is ``soni.storage.retention``'s. What differs here:

- A channel's value lives in ``checkpoint_blobs`` under its version, shared by
  every checkpoint that did not change it. A checkpoint supersedes the blobs of
  its channels' older versions (versions only grow: ``"{n:032}.{random}"``).
- The sweeper's batches and a reset's deletes run on connections of the pool,
  never through ``AsyncPostgresSaver``, which serialises every call of the
  process behind one lock: a long delete there would stall every turn.
- Batches of the sweeper commit without waiting for their flush: losing one in a
  crash of the server only leaves rows for the next round. A reset's last
  transaction waits for its flush, as its confirmations' cancellation does.

This module imports psycopg (through ``soni.postgres``): only the PostgreSQL
storage loads it.
"""

from __future__ import annotations

from typing import Any

from soni.errors import StoreClosed
from soni.postgres import RELAXED, Cursor, OnPool, Pool, Schema, set_up
from soni.storage.retention import IN_WRITE, CheckpointRetention, Group

__all__ = ("SCHEMA", "PostgresRetention")

_TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION soni_keep_latest_checkpoint() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    oldest text;
BEGIN
    -- A range of the primary key, which the plan of this function (made once, for
    -- any thread) uses whatever it believes of the thread's size.
    SELECT min(checkpoint_id) INTO oldest FROM (
        SELECT checkpoint_id FROM checkpoints
        WHERE thread_id = NEW.thread_id AND checkpoint_ns = NEW.checkpoint_ns
        AND checkpoint_id < NEW.checkpoint_id
        ORDER BY checkpoint_id DESC LIMIT {IN_WRITE}
    ) AS older;
    IF oldest IS NOT NULL THEN
        DELETE FROM checkpoint_writes
        WHERE thread_id = NEW.thread_id AND checkpoint_ns = NEW.checkpoint_ns
        AND checkpoint_id >= oldest AND checkpoint_id < NEW.checkpoint_id;
        DELETE FROM checkpoints
        WHERE thread_id = NEW.thread_id AND checkpoint_ns = NEW.checkpoint_ns
        AND checkpoint_id >= oldest AND checkpoint_id < NEW.checkpoint_id;
    END IF;
    DELETE FROM checkpoint_blobs WHERE ctid = ANY(ARRAY(
        SELECT b.ctid
        FROM jsonb_each_text(NEW.checkpoint -> 'channel_versions') AS v
        CROSS JOIN LATERAL (
            SELECT ctid FROM checkpoint_blobs
            WHERE thread_id = NEW.thread_id AND checkpoint_ns = NEW.checkpoint_ns
            AND channel = v.key AND version < v.value LIMIT {IN_WRITE}
        ) AS b
    ));
    RETURN NULL;
END
$$
"""

SCHEMA = Schema(
    component="retention",
    version=1,
    create=(
        _TRIGGER_FUNCTION,
        "DROP TRIGGER IF EXISTS soni_keep_latest_checkpoint ON checkpoints",
        # Prunes in the statement that saves a turn's checkpoint, in its transaction.
        "CREATE TRIGGER soni_keep_latest_checkpoint AFTER INSERT ON checkpoints"
        " FOR EACH ROW EXECUTE FUNCTION soni_keep_latest_checkpoint()",
    ),
    migrations={},
    tables=(),
)
"""The trigger, set up after LangGraph's tables (``migrate`` runs the saver's first)."""

_LATEST = """
SELECT checkpoint_id, checkpoint -> 'channel_versions' FROM checkpoints
WHERE thread_id = %s AND checkpoint_ns = %s ORDER BY checkpoint_id DESC LIMIT 1
"""
# Each batch's rows are picked through the primary key and deleted by their
# addresses (a TID scan), whatever the planner believes of the tables' sizes: on a
# thread's rows freshly written and not yet analysed, it may otherwise scan the
# whole thread for every batch. A channel's versions are found one channel at a
# time (LATERAL), for the same reason. Versions compare as text: LangGraph writes
# them as "{n:032}.{random}", so the zero-padded count decides in any collation.
_DROP_WRITES = f"""
DELETE FROM checkpoint_writes USING {RELAXED} WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM checkpoint_writes
    WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id < %s LIMIT %s
))
"""
_DROP_CHECKPOINTS = f"""
DELETE FROM checkpoints USING {RELAXED} WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM checkpoints
    WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id < %s
    ORDER BY checkpoint_id LIMIT %s
))
"""
_DROP_BLOBS = f"""
DELETE FROM checkpoint_blobs USING {RELAXED} WHERE ctid = ANY(ARRAY(
    SELECT b.ctid
    FROM jsonb_each_text(%s::jsonb) AS v
    CROSS JOIN LATERAL (
        SELECT ctid FROM checkpoint_blobs
        WHERE thread_id = %s AND checkpoint_ns = %s AND channel = v.key AND version < v.value
        LIMIT %s
    ) AS b
    LIMIT %s
))
"""
_GROUPS = """
SELECT thread_id, checkpoint_ns, count(*) FROM checkpoints {where}
GROUP BY thread_id, checkpoint_ns ORDER BY thread_id, checkpoint_ns LIMIT %s
"""
_REST = (
    # The checkpoint first: from this commit on, the conversation reads as new.
    "DELETE FROM checkpoints WHERE thread_id = %s",
    "DELETE FROM checkpoint_writes WHERE thread_id = %s",
    "DELETE FROM checkpoint_blobs WHERE thread_id = %s",
)


class PostgresRetention(CheckpointRetention):
    """Retention on the tables of an ``AsyncPostgresSaver``, on a pool it is given.

    Args:
        pool: The storage's pool (autocommit connections); not closed here.
        batch: Rows one statement deletes at most.
    """

    def __init__(self, pool: Pool, *, batch: int = 500, page: int = 1_000) -> None:
        super().__init__(batch=batch, page=page)
        self._on = OnPool(pool, lambda: StoreClosed("the storage is closed"))

    async def setup(self) -> None:
        await set_up(self._on, SCHEMA)

    async def _groups(self, after: Group | None, limit: int) -> list[tuple[str, str, int]]:
        async def read(cursor: Cursor) -> list[Any]:
            if after is None:
                await cursor.execute(_GROUPS.format(where=""), (limit,))
            else:
                where = "WHERE (thread_id, checkpoint_ns) > (%s, %s)"
                await cursor.execute(_GROUPS.format(where=where), (*after, limit))
            return await cursor.fetchall()

        return [(str(t), str(n), int(c)) for t, n, c in await self._on.run(read)]

    async def _namespaces(self, thread_id: str) -> list[str]:
        async def read(cursor: Cursor) -> list[Any]:
            await cursor.execute(
                "SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = %s",
                (thread_id,),
            )
            return await cursor.fetchall()

        return [str(row[0]) for row in await self._on.run(read)]

    async def _drop_older(self, thread_id: str, namespace: str) -> int:
        async def drop(cursor: Cursor) -> int:
            async with cursor.connection.transaction():
                await cursor.execute(_LATEST, (thread_id, namespace))
                row = await cursor.fetchone()
                if row is None:
                    return 0
                latest, versions = row
                group = (thread_id, namespace)
                await cursor.execute(_DROP_WRITES, (*group, latest, self.batch))
                changed = cursor.rowcount
                await cursor.execute(_DROP_CHECKPOINTS, (*group, latest, self.batch))
                changed = max(changed, cursor.rowcount)
                if versions:
                    from psycopg.types.json import Jsonb

                    blobs = (Jsonb(versions), *group, self.batch, self.batch)
                    await cursor.execute(_DROP_BLOBS, blobs)
                    changed = max(changed, cursor.rowcount)
                return changed

        return await self._on.run(drop)

    async def _drop_rest(self, thread_id: str) -> None:
        async def drop(cursor: Cursor) -> None:
            async with cursor.connection.transaction():
                for statement in _REST:
                    await cursor.execute(statement, (thread_id,))

        await self._on.run(drop)
