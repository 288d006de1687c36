"""Confirmations in a SQLite file: the embedded default.

One file, no server; it survives restarts, and several processes on one machine may
share it. Each operation is one function run, start to finish, on the store's own
worker thread and connection, inside ``BEGIN IMMEDIATE`` when it writes: the write
lock SQLite then holds is what makes a compare-and-set atomic across processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from os import PathLike, fspath
from pathlib import Path
from typing import Any, Literal, TypeVar

from soni.confirmations.records import (
    SYSTEM,
    Actor,
    Expired,
    HistoryEntry,
    PendingConfirmation,
    Status,
)
from soni.confirmations.stores._sqlite_schema import (
    COLUMNS,
    INSERT,
    INSERT_HISTORY,
    MIGRATIONS,
    OPEN_SQL,
    SCHEMA,
    SCHEMA_VERSION,
    TERMINAL_SQL,
    history_entry,
    micros,
    to_record,
    to_row,
    update_sql,
)
from soni.confirmations.stores.base import Change
from soni.errors import SchemaTooNew, StoreClosed

__all__ = ("SqliteConfirmationStore",)

T = TypeVar("T")


@contextmanager
def _write(conn: sqlite3.Connection, *, relaxed: bool = False) -> Iterator[None]:
    """One write transaction; ``relaxed`` skips its own fsync (see ``_SAFE_TO_LOSE``)."""
    if relaxed:
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        # After a full disk or an I/O error SQLite has rolled back already; a
        # second ROLLBACK would raise and hide the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        if relaxed:
            conn.execute("PRAGMA synchronous=FULL")


_SAFE_TO_LOSE = frozenset({Status.EXECUTED, Status.FAILED})
"""Outcomes whose loss in a power cut cannot make an action run twice.

With ``synchronous="FULL"``, a write is flushed to disk before it returns — except
registering a confirmation and recording an action's outcome. Lost, the first leaves
a token nobody can use (the user is asked again); the second leaves the record
``executing``, which is reported as an unknown outcome and never run again. Both
reach the disk with the next flushed write on the file (in WAL mode every commit
flushes those before it) — in a bot, the turn's checkpoint. Decisions, claims to
run, expiries and withdrawals are always flushed.
"""


def _add_history(
    conn: sqlite3.Connection,
    confirmation_id: str,
    from_status: Status | None,
    to_status: Status,
    actor: Actor,
    at: datetime,
) -> None:
    conn.execute(
        INSERT_HISTORY,
        (confirmation_id, from_status, to_status, actor.user_id, actor.channel, micros(at)),
    )


class SqliteConfirmationStore:
    """A ``ConfirmationStore`` in one SQLite file (WAL mode).

    Args:
        path: The database file (its folder is created), or ``":memory:"``.
        synchronous: ``"FULL"`` (default) makes every committed decision survive a
            power loss; ``"NORMAL"`` is several times faster per write and still
            survives a crash of the process, but not of the machine.
        busy_timeout: Seconds to wait for another process's write lock.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        busy_timeout: float = 30.0,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', got {synchronous!r}")
        self.path = fspath(path)
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        # One thread owns the connection: sqlite3 objects stay on their thread,
        # and operations from any event loop or thread queue up in order.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="soni-confirmations")
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._close_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SqliteConfirmationStore({self.path!r})"

    # -- plumbing -----------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreClosed(f"{self!r} is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._call, fn)
        except RuntimeError as exc:  # the executor shut down under us
            if self._closed:
                raise StoreClosed(f"{self!r} is closed") from exc
            raise

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        # Checked again on the worker thread: work queued just before close() must
        # not reopen the connection that close() released.
        if self._closed:
            raise StoreClosed(f"{self!r} is closed")
        if self._conn is None:
            self._conn = self._connect()
        return fn(self._conn)

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        deadline = time.monotonic() + self._busy_timeout
        while True:
            # Switching to WAL and creating the schema race with other processes
            # opening the same new file; SQLite may answer "locked" at once here.
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self._synchronous}")
                # 32 MB of page cache (the default is 2 MB): sweeps and lookups over
                # a large table stay in memory instead of re-reading pages.
                conn.execute("PRAGMA cache_size=-32768")
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version < SCHEMA_VERSION:
                    with _write(conn):
                        # Read again under the write lock: another process may
                        # have created or upgraded the schema meanwhile.
                        version = conn.execute("PRAGMA user_version").fetchone()[0]
                        if version == 0:
                            for statement in SCHEMA.split(";"):
                                if statement.strip():
                                    conn.execute(statement)
                        else:
                            for step in range(version, SCHEMA_VERSION):
                                for statement in MIGRATIONS[step]:
                                    conn.execute(statement)
                        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                elif version > SCHEMA_VERSION:
                    raise SchemaTooNew(
                        f"{self.path} was written by a newer soni (schema {version})"
                    )
                return conn
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    conn.close()
                    raise
                if time.monotonic() > deadline:
                    conn.close()
                    raise
                time.sleep(0.01)

    async def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(self._executor, self._disconnect)
        try:
            # Shielded: a caller cancelled here must not leave the connection open.
            await asyncio.shield(done)
        finally:
            self._executor.shutdown(wait=False)

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- operations ---------------------------------------------------------------

    async def insert(self, record: PendingConfirmation) -> bool:
        row = to_row(record)

        def insert(conn: sqlite3.Connection) -> bool:
            with _write(conn, relaxed=self._synchronous == "FULL"):
                try:
                    conn.execute(INSERT, row)
                except sqlite3.IntegrityError as exc:
                    if record.key is not None and "idempotency_key" in str(exc):
                        return False
                    raise
                _add_history(conn, record.id, None, record.status, SYSTEM, record.created_at)
            return True

        return await self._run(insert)

    async def _select_one(self, where: str, value: str) -> PendingConfirmation | None:
        def select(conn: sqlite3.Connection) -> PendingConfirmation | None:
            row = conn.execute(f"SELECT {COLUMNS} FROM confirmations WHERE {where}", (value,))
            found = row.fetchone()
            return None if found is None else to_record(found)

        return await self._run(select)

    async def get(self, confirmation_id: str) -> PendingConfirmation | None:
        return await self._select_one("id = ?", confirmation_id)

    async def find_by_token_hash(self, token_hash: str) -> PendingConfirmation | None:
        return await self._select_one("token_hash = ?", token_hash)

    async def find_open_by_key(self, key: str) -> PendingConfirmation | None:
        return await self._select_one(f"idempotency_key = ? AND status IN {OPEN_SQL}", key)

    async def transition(
        self,
        confirmation_id: str,
        change: Change,
        *,
        unexpired: bool = False,
        expired: bool = False,
        claimed_by: str | None = None,
    ) -> tuple[PendingConfirmation, Status] | None:
        updates = [update_sql(step) for step in change.chain()]
        select = f"SELECT {COLUMNS} FROM confirmations WHERE id = ?"
        now = micros(change.at)

        relaxed = self._synchronous == "FULL" and change.status in _SAFE_TO_LOSE

        def transition(conn: sqlite3.Connection) -> tuple[PendingConfirmation, Status] | None:
            with _write(conn, relaxed=relaxed):
                row = conn.execute(
                    "SELECT status, expires_at, runner FROM confirmations WHERE id = ?",
                    (confirmation_id,),
                ).fetchone()
                if row is None:
                    return None
                status, expires_at = Status(row[0]), row[1]
                if status not in change.expected:
                    return None
                if claimed_by is not None and (row[2] or "") != claimed_by:
                    return None
                if (unexpired and expires_at <= now) or (expired and expires_at > now):
                    return None
                before = status
                for step, (update, values) in zip(change.chain(), updates, strict=True):
                    conn.execute(update, (*values, confirmation_id))
                    _add_history(conn, confirmation_id, before, step.status, step.actor, step.at)
                    before = step.status
                return to_record(conn.execute(select, (confirmation_id,)).fetchone()), status

        return await self._run(transition)

    async def expire_due(
        self, now: datetime, actor: Actor, limit: int | None = None
    ) -> list[Expired]:
        at = micros(now)
        due = f"status IN {OPEN_SQL} AND expires_at <= ?"
        if limit is not None:
            # The oldest first, through the partial index on open records.
            due = (
                f"id IN (SELECT id FROM confirmations WHERE {due}"
                f" ORDER BY expires_at LIMIT {int(limit)})"
            )

        def expire(conn: sqlite3.Connection) -> list[Expired]:
            with _write(conn):
                # History first: it is where the previous statuses are kept.
                logged = conn.execute(
                    "INSERT INTO confirmation_history"
                    " (confirmation_id, from_status, to_status, actor_user, actor_channel, at)"
                    f" SELECT id, status, 'expired', ?, ?, ? FROM confirmations WHERE {due}",
                    (actor.user_id, actor.channel, at, at),
                ).rowcount
                if not logged:
                    return []
                last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
                previous = dict(
                    conn.execute(
                        "SELECT confirmation_id, from_status FROM confirmation_history"
                        " WHERE seq > ? AND seq <= ?",
                        (last - logged, last),
                    ).fetchall()
                )
                rows = conn.execute(
                    f"UPDATE confirmations SET status = 'expired', updated_at = ? WHERE {due}"
                    " RETURNING id, conversation_id, user_id",
                    (at, at),
                ).fetchall()
            return [Expired(cid, conv, user, Status(previous[cid])) for cid, conv, user in rows]

        return await self._run(expire)

    async def purge(self, before: datetime) -> int:
        cutoff = micros(before)
        old = f"status IN {TERMINAL_SQL} AND updated_at < ?"

        def purge(conn: sqlite3.Connection) -> int:
            with _write(conn):
                conn.execute(
                    "DELETE FROM confirmation_history WHERE confirmation_id IN"
                    f" (SELECT id FROM confirmations WHERE {old})",
                    (cutoff,),
                )
                return conn.execute(f"DELETE FROM confirmations WHERE {old}", (cutoff,)).rowcount

        return await self._run(purge)

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
            clauses.append("conversation_id = ?")
            values.append(conversation_id)
        if user_id is not None:
            clauses.append("user_id = ?")
            values.append(user_id)
        if statuses is not None:
            wanted = [Status(s).value for s in statuses]
            if not wanted:
                return []
            clauses.append(f"status IN ({', '.join('?' * len(wanted))})")
            values += wanted
        if conversation_prefix is not None:
            clauses.append("substr(conversation_id, 1, ?) = ?")
            values += [len(conversation_prefix), conversation_prefix]
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
            sql += " LIMIT ?"
            values.append(limit)

        def select(conn: sqlite3.Connection) -> list[PendingConfirmation]:
            return [to_record(row) for row in conn.execute(sql, values).fetchall()]

        return await self._run(select)

    async def history(self, confirmation_id: str) -> list[HistoryEntry]:
        def select(conn: sqlite3.Connection) -> list[HistoryEntry]:
            rows = conn.execute(
                "SELECT from_status, to_status, actor_user, actor_channel, at"
                " FROM confirmation_history WHERE confirmation_id = ? ORDER BY seq",
                (confirmation_id,),
            ).fetchall()
            return [history_entry(confirmation_id, row) for row in rows]

        return await self._run(select)

    # -- for benchmarks and tooling ------------------------------------------------

    async def count(self, statuses: Collection[Status] | None = None) -> int:
        """How many records there are (with one of ``statuses``)."""
        wanted = [Status(s).value for s in statuses] if statuses is not None else None
        sql = "SELECT count(*) FROM confirmations"
        if wanted is not None:
            sql += f" WHERE status IN ({', '.join('?' * len(wanted))})"

        def count(conn: sqlite3.Connection) -> int:
            return int(conn.execute(sql, wanted or []).fetchone()[0])

        return await self._run(count)
