"""PostgreSQL: one database shared by any number of soni processes, on any number of hosts.

What keeps every single-process guarantee across processes rests on the database:

- **State** is LangGraph's own ``AsyncPostgresSaver`` on a psycopg 3 pool.
- **Turn order**: a turn holds a transaction-level advisory lock keyed by its
  conversation for as long as it runs. PostgreSQL queues waiters in arrival order
  and releases the lock when the transaction ends — committed, rolled back, or
  its connection gone because the process died — so no lock outlives a worker.
- **Runners**: a process proves it is alive by holding a session advisory lock on
  a connection of its own (keepalives on, so a vanished host is noticed too);
  others read ``pg_locks`` to learn whether a claim's runner can still finish it.
- **Notices**: ``pg_notify`` on one channel carries ids (a turn ended, a
  confirmation changed, a conversation was reset); each process ``LISTEN``\\ s on a
  connection of its own and reads the rest from the database.
- **Schema**: created and upgraded by whichever process starts first, under an
  advisory lock, so workers starting together never race (``soni db migrate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from soni.confirmations.runners import Runner
from soni.errors import ConversationBusy, SoniError
from soni.storage.base import Notice, Storage, StorageStatus

__all__ = ("PostgresLiveness", "PostgresStorage", "advisory_key", "open_postgres", "shown_url")

logger = logging.getLogger("soni.storage")

CHANNEL = "soni_events"
"""The LISTEN/NOTIFY channel of soni's notices."""

_NOTIFY_LIMIT = 7900  # PostgreSQL refuses payloads of 8,000 bytes and more
_KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
# The server's side of the same: a host that vanished without closing its
# connections loses its locks within about 25 seconds.
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)


def advisory_key(namespace: str, name: str) -> int:
    """A signed 64-bit advisory lock key for ``name`` within ``namespace``."""
    digest = hashlib.blake2b(f"soni:{namespace}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def shown_url(url: str) -> str:
    """A URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{netloc}", parts.path, parts.query, ""))


class PostgresLiveness:
    """Runner locks as session advisory locks, each on a connection of its own."""

    def __init__(self, url: str, pool: Any) -> None:
        self._url = url
        self._pool = pool
        self._held: dict[str, Any] = {}

    async def take(self, runner_id: str) -> None:
        """Open the runner's connection and take its lock (before ``Runner`` uses the id)."""
        import psycopg

        conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True, **_KEEPALIVES)
        try:
            for statement in _SERVER_KEEPALIVES:
                await conn.execute(statement)
            await conn.execute("SELECT pg_advisory_lock(%s)", (advisory_key("runner", runner_id),))
        except BaseException:
            await conn.close()
            raise
        self._held[runner_id] = conn

    def hold(self, runner_id: str) -> None:
        if runner_id not in self._held:
            raise RuntimeError(f"runner {runner_id} has no lock: call take() first")

    def release(self, runner_id: str) -> None:
        # The connection is closed by ``close`` (it needs the loop); until then the
        # runner is gone for this process (``Runner.close``) but not for others.
        return None

    async def close(self) -> None:
        held, self._held = self._held, {}
        for conn in held.values():
            with contextlib.suppress(Exception):
                await conn.close()

    async def alive(self, runner_id: str) -> bool:
        unsigned = advisory_key("runner", runner_id) & 0xFFFF_FFFF_FFFF_FFFF
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1"
                " AND granted)",
                (unsigned >> 32, unsigned & 0xFFFF_FFFF),
            )
            row = await cursor.fetchone()
        return bool(row and row[0])


class PostgresStorage(Storage):
    """Checkpoints, confirmations, the journal and notices in one PostgreSQL database."""

    shared = True

    def __init__(self, *, url: str, pool: Any, locks_pool: Any, **parts: Any) -> None:
        super().__init__(backend="postgres", location=shown_url(url), **parts)
        self._url = url
        self.pool = pool
        self._locks_pool = locks_pool
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    # -- turns: the local lock, then the database's -------------------------------

    @contextlib.asynccontextmanager
    async def _turn(self, conversation_id: str, wait: float | None) -> AsyncIterator[None]:
        import psycopg
        from psycopg_pool import PoolTimeout

        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + max(wait, 0.0)
        async with super()._turn(conversation_id, wait):
            key = advisory_key("turn", conversation_id)
            left = None if deadline is None else max(deadline - loop.time(), 0.0)
            # The pool refuses a timeout of 0 outright: "not at all" gets a moment.
            room = _UNBOUNDED if left is None else max(left, _MOMENT)
            try:
                connecting = self._locks_pool.connection(timeout=room)
                async with connecting as conn, conn.transaction():
                    if left is not None and left <= 0:
                        cursor = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (key,))
                        row = await cursor.fetchone()
                        if not (row and row[0]):
                            raise ConversationBusy(conversation_id)
                    else:
                        if left is not None:
                            milliseconds = max(int(left * 1000), 1)
                            await conn.execute(f"SET LOCAL lock_timeout = {milliseconds}")
                        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                    yield
            except psycopg.errors.LockNotAvailable:
                raise ConversationBusy(conversation_id) from None
            except PoolTimeout:
                raise ConversationBusy(conversation_id, _NO_ROOM) from None

    # -- notices --------------------------------------------------------------------

    async def publish(self, notice: Notice) -> None:
        payload = notice.to_json()
        if len(payload.encode()) > _NOTIFY_LIMIT:
            logger.warning("a %s notice is too long to send; not sent", notice.kind)
            return
        try:
            async with self.pool.connection() as conn:
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        except Exception:
            # What happened is in the database already; others read it when asked.
            logger.exception("could not publish a %s notice", notice.kind)

    async def start_listening(self) -> None:
        """Listen to the other processes' notices until ``close``."""
        self._listener = asyncio.create_task(self._listen(), name="soni-notices")
        listening = asyncio.ensure_future(self._listening.wait())
        await asyncio.wait([listening, self._listener], return_when=asyncio.FIRST_COMPLETED)
        if self._listener.done():
            listening.cancel()
            self._listener.result()  # raises why it could not listen

    async def _listen(self) -> None:
        import psycopg

        failures = 0
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, **_KEEPALIVES
                )
            except psycopg.OperationalError:
                if not self._listening.is_set():
                    raise
                failures += 1
                logger.warning("lost the notices connection; reconnecting (%d)", failures)
                await asyncio.sleep(min(0.1 * 2**failures, 5.0))  # back off, never busy-loop
                continue
            try:
                await conn.execute(f"LISTEN {CHANNEL}")
                self._listening.set()
                failures = 0
                async for message in conn.notifies():
                    notice = Notice.from_json(message.payload)
                    if notice is not None:
                        await self._deliver(notice)
            except psycopg.OperationalError:
                logger.warning("the notices connection dropped; reconnecting")
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()

    # -- housekeeping ---------------------------------------------------------------

    async def status(self) -> StorageStatus:
        return await _status(self.pool, self.location)

    async def close(self) -> None:
        if self._closed:
            return
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(BaseException):
                await self._listener
        await super().close()


_TABLES = (
    "checkpoints",
    "checkpoint_blobs",
    "checkpoint_writes",
    "confirmations",
    "confirmation_history",
    "soni_action_runs",
    "soni_conversation_generations",
)


async def _status(pool: Any, location: str) -> StorageStatus:
    schema: dict[str, int] = {}
    rows: dict[str, int] = {}
    async with pool.connection() as conn:
        present = {
            row[0]
            for row in await (
                await conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            ).fetchall()
        }
        if "checkpoint_migrations" in present:
            row = await (await conn.execute("SELECT max(v) FROM checkpoint_migrations")).fetchone()
            schema["checkpoints"] = int(row[0]) + 1 if row and row[0] is not None else 0
        if "soni_schema" in present:
            for component, version in await (
                await conn.execute("SELECT component, version FROM soni_schema ORDER BY 1")
            ).fetchall():
                schema[str(component)] = int(version)
        for table in _TABLES:
            if table in present:
                row = await (await conn.execute(f"SELECT count(*) FROM {table}")).fetchone()
                rows[table] = int(row[0]) if row else 0
    return StorageStatus("postgres", location, schema, rows)


async def migrate(pool: Any, *parts: Any, timeout: float = 120.0) -> None:
    """Create or upgrade every table, one process at a time (an advisory lock).

    The lock is tried, not waited for inside a statement: LangGraph's migrations
    build indexes ``CONCURRENTLY``, which waits for every open transaction — a
    second process blocked in ``pg_advisory_lock`` would be one, and neither
    would ever go on.

    Raises:
        TimeoutError: another process held the lock for ``timeout`` seconds.
    """
    key = advisory_key("migrate", "schema")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = 0.01
    async with pool.connection() as conn:
        while True:
            row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))).fetchone()
            if row and row[0]:
                break
            if loop.time() > deadline:
                raise TimeoutError("another process has been migrating the schema too long")
            await asyncio.sleep(pause)  # another process migrates: back off, then try again
            pause = min(pause * 2, 0.5)
        try:
            for part in parts:
                await part.setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


async def open_postgres(
    url: str,
    *,
    secret: bytes | None = None,
    pool_size: int | None = None,
    migrate_schema: bool = True,
    listen: bool = True,
) -> PostgresStorage:
    """Open (and by default create or upgrade) soni's tables in a PostgreSQL database.

    Args:
        url: ``postgresql://user[:password]@host[:port]/dbname[?options]``.
        secret: What confirmation tokens are derived under (see ``Bot.load``).
        pool_size: Connections for state, confirmations and the journal; turns in
            flight hold one more each, from a second pool of the same size. By
            default ``SONI_DB_POOL_SIZE``, else 10. Each worker opens up to twice
            this many, plus one for notices and one for its runner's liveness:
            keep workers x (2 x pool_size + 2) under the server's ``max_connections``.
        migrate_schema: Create or upgrade the tables first (``soni db migrate``
            does it on its own otherwise).
        listen: Receive other processes' notices (a bot does; ``soni db`` not).

    Raises:
        SoniError: the database cannot be reached, its schema is from a newer soni,
            or ``pool_size`` (``SONI_DB_POOL_SIZE``) is not a positive integer.
    """
    pool_size = _pool_size(pool_size)
    import psycopg
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg_pool import AsyncConnectionPool

    from soni.confirmations.stores.postgres import PostgresConfirmationStore
    from soni.storage.journal_postgres import PostgresActionJournal
    from soni.storage.retention_postgres import PostgresRetention

    kwargs = {"autocommit": True, "prepare_threshold": 0}
    pool: Any = AsyncConnectionPool(
        url, min_size=1, max_size=pool_size, kwargs=kwargs, open=False, name="soni"
    )
    locks_pool: Any = AsyncConnectionPool(
        url, min_size=0, max_size=pool_size, kwargs=kwargs, open=False, name="soni-turns"
    )
    liveness: PostgresLiveness | None = None
    try:
        await pool.open(wait=True, timeout=10)
        await locks_pool.open()
        saver = AsyncPostgresSaver(pool)
        store = PostgresConfirmationStore(pool)
        journal = PostgresActionJournal(pool)
        retention = PostgresRetention(pool)
        if migrate_schema:
            # The retention's trigger is on the saver's table: after the saver.
            await migrate(pool, saver, store, journal, retention)
        else:
            await _check_schema(pool, url)
        liveness = PostgresLiveness(url, pool)
        runner_id = secrets.token_hex(12)
        await liveness.take(runner_id)
        storage = PostgresStorage(
            url=url,
            pool=pool,
            locks_pool=locks_pool,
            checkpointer=saver,
            confirmations=store,
            journal=journal,
            runner=Runner(liveness=liveness, runner_id=runner_id),
            secret=secret,
            closers=(pool.close, locks_pool.close, liveness.close),
            retention=retention,
        )
    except (psycopg.Error, TimeoutError, OSError) as exc:
        await _close_all(pool, locks_pool, liveness)
        raise SoniError(f"cannot use the PostgreSQL database {shown_url(url)}: {exc}") from exc
    except BaseException:
        await _close_all(pool, locks_pool, liveness)
        raise
    if listen:
        try:
            await storage.start_listening()
        except BaseException:
            await storage.close()
            raise
    return storage


async def _close_all(pool: Any, locks_pool: Any, liveness: PostgresLiveness | None) -> None:
    if liveness is not None:
        await liveness.close()
    for each in (locks_pool, pool):
        with contextlib.suppress(Exception):
            await each.close()


async def _check_schema(pool: Any, url: str) -> None:
    status = await _status(pool, shown_url(url))
    if "confirmations" not in status.schema or "checkpoints" not in status.schema:
        raise SoniError(
            f"the PostgreSQL database {shown_url(url)} has no soni tables yet: "
            f"run `soni db migrate --db {shown_url(url)}`"
        )


POOL_SIZE = 10
# How long a turn waits for a connection of its own when it may wait as long as it
# takes, and when it may not wait at all.
_UNBOUNDED = 24 * 3600.0
_MOMENT = 0.05
_NO_ROOM = (
    "could not start: every database connection for turns is in use (SONI_DB_POOL_SIZE per worker)"
)


def _pool_size(given: int | None) -> int:
    """``given``, else ``SONI_DB_POOL_SIZE``, else ``POOL_SIZE``: a positive integer."""
    if given is None:
        text = os.environ.get("SONI_DB_POOL_SIZE", "").strip()
        if not text:
            return POOL_SIZE
        try:
            given = int(text)
        except ValueError:
            raise SoniError(f"SONI_DB_POOL_SIZE must be a positive integer, got {text!r}") from None
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        raise SoniError(f"the database pool size must be a positive integer, got {given!r}")
    return given
