"""What soni's PostgreSQL components share: statements on a pool, versioned schemas.

Each component (the confirmation store, the action journal) is handed an
``AsyncConnectionPool`` by its owner, who opened it with
``kwargs={"autocommit": True, "prepare_threshold": 0}`` and closes it. A component
never closes the pool; it only stops taking calls.

Schemas are versioned per component in one small table, ``soni_schema``, and set up
under a transaction-level advisory lock, so that workers starting together on a
fresh database take turns instead of racing to create the same tables.

This module imports psycopg, which costs a third of a second: only the PostgreSQL
modules import it, and those are loaded on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import TupleRow, tuple_row
from psycopg_pool import AsyncConnectionPool

from soni.errors import SchemaTooNew

__all__ = (
    "RELAXED",
    "Cursor",
    "OnPool",
    "Pool",
    "Schema",
    "Versioned",
    "recorded_version",
    "row_counts",
    "set_up",
)

T = TypeVar("T")

Pool: TypeAlias = AsyncConnectionPool[Any]
Cursor: TypeAlias = AsyncCursor[TupleRow]

# Every component's setup takes this one lock, in the two-key form: PostgreSQL
# keeps its key space apart from the one-key form's, where locks keyed by a hash
# (of a conversation, say) live.
_SETUP_LOCK = (0x736F6E69, 1)  # "soni", 1

RELAXED = "(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
"""A ``FROM`` item that lets the statement's own commit return before its WAL is flushed.

For writes whose loss in a crash of the database server cannot make an action run
twice, as the SQLite store skips the flush for them (``_SAFE_TO_LOSE`` there). The
setting is local to the statement's transaction, so it never outlives the statement
on a pooled connection, and the write becomes durable with the next flushed commit
(PostgreSQL's log is written in order). On this project's machines a flushed
commit costs ~4 ms and one that is not ~0.15 ms.
"""

_VERSIONS = """
CREATE TABLE IF NOT EXISTS soni_schema (
    component  text PRIMARY KEY,
    version    integer NOT NULL
)
"""


class OnPool:
    """Runs a component's statements on connections of a pool it was given.

    A psycopg pool belongs to the event loop it was opened on. Calls made from
    another loop (a thread running its own, as ``asyncio.run`` in a worker thread
    does) are handed to that loop and awaited, so a component is as safe to share
    between threads as the SQLite ones are. The pool's loop is taken to be the one
    running when the component is made (or, made outside any, the loop of its first
    call): make components where the pool was opened. That loop must be running
    for a call to be handed over: a call from a thread that blocks it would wait
    forever.

    Args:
        pool: The pool; opened, and closed, by its owner.
        closed: The error a call after ``close()`` raises.
    """

    def __init__(self, pool: Pool, closed: Callable[[], Exception]) -> None:
        self.pool = pool
        self._closed_error = closed
        self.closed = False
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # made outside any loop: the first call's is the pool's
            self._loop = None

    def close(self) -> None:
        """Refuse every later call. The pool stays open: it is its owner's."""
        self.closed = True

    async def run(self, work: Callable[[Cursor], Awaitable[T]]) -> T:
        """``work`` on a cursor of a pooled connection; each statement commits on its own."""
        if self.closed:
            raise self._closed_error()
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        if loop is self._loop:
            return await self._run(work)
        home = self._loop
        if home.is_closed() or not home.is_running():
            raise RuntimeError("the event loop that opened the PostgreSQL pool is not running")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._run(work), home))

    async def _run(self, work: Callable[[Cursor], Awaitable[T]]) -> T:
        if self.closed:  # checked again: a call handed over from another loop
            raise self._closed_error()
        async with self.pool.connection() as conn:
            _check_autocommit(conn)
            # Rows as tuples whatever the pool's row factory: a pool shared with
            # LangGraph's saver makes dicts.
            async with conn.cursor(row_factory=tuple_row) as cursor:
                return await work(cursor)


def _check_autocommit(conn: AsyncConnection[Any]) -> None:
    # Outside autocommit, every statement would open a transaction that the pool
    # rolls back when the connection comes back: writes that seem to succeed and
    # are lost. Better to say so at once.
    if not conn.autocommit:
        raise RuntimeError(
            "soni's PostgreSQL components need a pool of autocommit connections:"
            ' open it with kwargs={"autocommit": True, "prepare_threshold": 0}'
        )


@dataclass(frozen=True, slots=True)
class Schema:
    """A component's tables at one version, and how to reach it from earlier ones.

    Attributes:
        component: Its name in ``soni_schema``.
        version: The version this soni writes.
        create: The statements that create it from nothing (at ``version``).
        migrations: The statements that bring version ``n`` to ``n + 1``, by ``n``.
        tables: Its tables, for row counts.
    """

    component: str
    version: int
    create: Sequence[str]
    migrations: Mapping[int, Sequence[str]]
    tables: Sequence[str]

    def __post_init__(self) -> None:
        missing = [n for n in range(1, self.version) if n not in self.migrations]
        if missing:
            raise ValueError(f"{self.component}: no migration from version(s) {missing}")


async def set_up(on: OnPool, schema: Schema) -> int:
    """Create or upgrade ``schema``; idempotent, and safe from several processes at once.

    Everything happens in one transaction holding the setup lock: a worker that
    finds the schema missing creates it, and the next one, waiting on the lock,
    finds it there. DDL is transactional in PostgreSQL, so a failed upgrade leaves
    the previous version whole.

    Returns:
        The version found before (0 for none).

    Raises:
        RuntimeError: the database was written by a newer soni.
    """

    async def work(cursor: Cursor) -> int:
        async with cursor.connection.transaction():
            await cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", _SETUP_LOCK)
            await cursor.execute(_VERSIONS)
            found = await _version(cursor, schema.component)
            if found > schema.version:
                raise SchemaTooNew(_too_new(schema, found))
            if found == schema.version:
                return found
            steps = (
                [schema.create]
                if found == 0
                else [schema.migrations[n] for n in range(found, schema.version)]
            )
            for statements in steps:
                for statement in statements:
                    await cursor.execute(statement)
            await cursor.execute(
                "INSERT INTO soni_schema (component, version) VALUES (%s, %s)"
                " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (schema.component, schema.version),
            )
            return found

    return await on.run(work)


def _too_new(schema: Schema, found: int) -> str:
    return (
        f"this PostgreSQL database holds soni's {schema.component} at schema version"
        f" {found}, written by a newer soni; this one knows versions up to {schema.version}."
        " Upgrade soni, or point it at another database."
    )


async def _version(cursor: Cursor, component: str) -> int:
    await cursor.execute("SELECT to_regclass('soni_schema') IS NOT NULL")
    exists = await cursor.fetchone()
    if not (exists and exists[0]):
        return 0
    await cursor.execute("SELECT version FROM soni_schema WHERE component = %s", (component,))
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def recorded_version(on: OnPool, component: str) -> int:
    """The version of ``component`` the database holds; 0 before any setup."""

    async def work(cursor: Cursor) -> int:
        return await _version(cursor, component)

    return await on.run(work)


async def row_counts(on: OnPool, tables: Sequence[str]) -> dict[str, int]:
    """Rows per table (exact counts: this is for ``soni db status``, not a hot path).

    A table not created yet counts 0.
    """

    async def work(cursor: Cursor) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table in tables:
            await cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
            exists = await cursor.fetchone()
            if exists and exists[0]:
                # The names are soni's own constants, never user input.
                await cursor.execute(f"SELECT count(*) FROM {table}")
                row = await cursor.fetchone()
                counts[table] = int(row[0]) if row else 0
            else:
                counts[table] = 0
        return counts

    return await on.run(work)


class Versioned:
    """``setup``, ``schema_version`` and ``counts`` of a component with a ``Schema``.

    A component sets ``_schema`` (its tables) and ``_on`` (its pool runner).
    """

    _schema: Schema
    _on: OnPool

    async def setup(self) -> int:
        """Create the tables, or bring them to this soni's version; idempotent.

        Returns:
            The schema version found before (0 for a database without it).

        Raises:
            SchemaTooNew: a newer soni wrote the database.
        """
        return await set_up(self._on, self._schema)

    async def schema_version(self) -> int:
        """The version of the tables in the database (0 before ``setup``)."""
        return await recorded_version(self._on, self._schema.component)

    async def counts(self) -> dict[str, int]:
        """Rows in each of the component's tables."""
        return await row_counts(self._on, self._schema.tables)
