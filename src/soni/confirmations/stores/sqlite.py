"""Confirmations in a SQLite file: the embedded default.

One file, no server; it survives restarts, and several processes on one machine may
share it. Each operation is one function run, start to finish, on the store's own
worker thread and connection, inside ``BEGIN IMMEDIATE`` when it writes: the write
lock SQLite then holds is what makes a compare-and-set atomic across processes.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from os import PathLike, fspath
from pathlib import Path
from typing import Any, Literal, TypeVar

from soni.confirmations.records import (
    SYSTEM,
    TERMINAL,
    ActionCall,
    Actor,
    Expired,
    HistoryEntry,
    PendingConfirmation,
    Status,
    canonical_json,
)
from soni.confirmations.stores.base import Change
from soni.errors import StoreClosed

__all__ = ("SqliteConfirmationStore",)

T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_SCHEMA_VERSION = 1
_OPEN_SQL = "('pending', 'shown')"
_TERMINAL_SQL = "(" + ", ".join(f"'{s.value}'" for s in sorted(TERMINAL)) + ")"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS confirmations (
    id               TEXT PRIMARY KEY,
    token_hash       TEXT NOT NULL UNIQUE,
    idempotency_key  TEXT,
    conversation_id  TEXT NOT NULL,
    user_id          TEXT,
    kind             TEXT NOT NULL,
    actions          TEXT NOT NULL,
    prompt           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    status           TEXT NOT NULL,
    chosen           TEXT,
    decided_user     TEXT,
    decided_channel  TEXT,
    decided_at       INTEGER,
    result           TEXT,
    error            TEXT,
    updated_at       INTEGER NOT NULL
);
-- At most one open confirmation per key: the database, not the caller, enforces it.
CREATE UNIQUE INDEX IF NOT EXISTS confirmations_open_key
    ON confirmations (idempotency_key)
    WHERE idempotency_key IS NOT NULL AND status IN {_OPEN_SQL};
-- Sweeps touch only open records, however many closed ones accumulate.
CREATE INDEX IF NOT EXISTS confirmations_open_expiry
    ON confirmations (expires_at) WHERE status IN {_OPEN_SQL};
CREATE INDEX IF NOT EXISTS confirmations_by_conversation
    ON confirmations (conversation_id, created_at);
CREATE INDEX IF NOT EXISTS confirmations_purge
    ON confirmations (updated_at) WHERE status IN {_TERMINAL_SQL};
CREATE TABLE IF NOT EXISTS confirmation_history (
    seq              INTEGER PRIMARY KEY,
    confirmation_id  TEXT NOT NULL,
    from_status      TEXT,
    to_status        TEXT NOT NULL,
    actor_user       TEXT,
    actor_channel    TEXT NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS confirmation_history_by_id
    ON confirmation_history (confirmation_id, seq);
"""

_COLUMNS = (
    "id, token_hash, idempotency_key, conversation_id, user_id, kind, actions, prompt, "
    "created_at, expires_at, status, chosen, decided_user, decided_channel, decided_at, "
    "result, error, updated_at"
)


_INSERT = (
    "INSERT INTO confirmations (id, token_hash, idempotency_key, conversation_id, user_id,"
    " kind, actions, prompt, created_at, expires_at, status, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_HISTORY = (
    "INSERT INTO confirmation_history"
    " (confirmation_id, from_status, to_status, actor_user, actor_channel, at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _moment(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + micros * _MICROSECOND


def _record(row: tuple[Any, ...]) -> PendingConfirmation:
    (cid, token_hash, key, conversation_id, user_id, kind, actions, prompt, created_at,
     expires_at, status, chosen, decided_user, decided_channel, decided_at, result, error,
     updated_at) = row  # fmt: skip
    return PendingConfirmation(
        id=cid,
        token_hash=token_hash,
        conversation_id=conversation_id,
        user_id=user_id,
        kind=kind,
        actions=tuple(ActionCall.from_json(a) for a in json.loads(actions)),
        prompt=prompt,
        created_at=_EPOCH + created_at * _MICROSECOND,
        expires_at=_EPOCH + expires_at * _MICROSECOND,
        status=Status(status),
        key=key,
        chosen=chosen,
        decided_by=None if decided_channel is None else Actor(decided_user, decided_channel),
        decided_at=_moment(decided_at),
        result=None if result is None else json.loads(result),
        error=error,
        updated_at=_moment(updated_at),
    )


def _row(record: PendingConfirmation) -> tuple[Any, ...]:
    return (
        record.id,
        record.token_hash,
        record.key,
        record.conversation_id,
        record.user_id,
        record.kind,
        record.actions_json(),
        record.prompt,
        _micros(record.created_at),
        _micros(record.expires_at),
        record.status.value,
        _micros(record.updated_at or record.created_at),
    )


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
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


def _add_history(
    conn: sqlite3.Connection,
    confirmation_id: str,
    from_status: Status | None,
    to_status: Status,
    actor: Actor,
    at: datetime,
) -> None:
    conn.execute(
        _INSERT_HISTORY,
        (confirmation_id, from_status, to_status, actor.user_id, actor.channel, _micros(at)),
    )


def _update(change: Change) -> tuple[str, list[Any]]:
    """The UPDATE statement (without the id) that writes one change."""
    assignments = ["status = ?", "updated_at = ?"]
    values: list[Any] = [change.status.value, _micros(change.at)]
    if change.decided:
        assignments += ["decided_user = ?", "decided_channel = ?", "decided_at = ?"]
        values += [change.actor.user_id, change.actor.channel, _micros(change.at)]
    if change.chosen is not None:
        assignments.append("chosen = ?")
        values.append(change.chosen)
    if change.result is not None:
        assignments.append("result = ?")
        values.append(canonical_json(dict(change.result)))
    if change.error is not None:
        assignments.append("error = ?")
        values.append(change.error)
    return f"UPDATE confirmations SET {', '.join(assignments)} WHERE id = ?", values


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
                if version < _SCHEMA_VERSION:
                    with _write(conn):
                        for statement in _SCHEMA.split(";"):
                            if statement.strip():
                                conn.execute(statement)
                        conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
                elif version > _SCHEMA_VERSION:
                    raise RuntimeError(
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
        row = _row(record)

        def insert(conn: sqlite3.Connection) -> bool:
            with _write(conn):
                try:
                    conn.execute(_INSERT, row)
                except sqlite3.IntegrityError as exc:
                    if record.key is not None and "idempotency_key" in str(exc):
                        return False
                    raise
                _add_history(conn, record.id, None, record.status, SYSTEM, record.created_at)
            return True

        return await self._run(insert)

    async def insert_many(self, records: Collection[PendingConfirmation]) -> None:
        """Add many new records in one transaction (imports, benchmarks).

        Raises:
            sqlite3.IntegrityError: a record clashes with an existing one (id, token
                hash, or the key of an open record); nothing is added.
        """
        rows = [_row(r) for r in records]
        history = [
            (r.id, None, r.status.value, SYSTEM.user_id, SYSTEM.channel, _micros(r.created_at))
            for r in records
        ]

        def insert(conn: sqlite3.Connection) -> None:
            with _write(conn):
                conn.executemany(_INSERT, rows)
                conn.executemany(_INSERT_HISTORY, history)

        await self._run(insert)

    async def _select_one(self, where: str, value: str) -> PendingConfirmation | None:
        def select(conn: sqlite3.Connection) -> PendingConfirmation | None:
            row = conn.execute(f"SELECT {_COLUMNS} FROM confirmations WHERE {where}", (value,))
            found = row.fetchone()
            return None if found is None else _record(found)

        return await self._run(select)

    async def get(self, confirmation_id: str) -> PendingConfirmation | None:
        return await self._select_one("id = ?", confirmation_id)

    async def find_by_token_hash(self, token_hash: str) -> PendingConfirmation | None:
        return await self._select_one("token_hash = ?", token_hash)

    async def find_open_by_key(self, key: str) -> PendingConfirmation | None:
        return await self._select_one(f"idempotency_key = ? AND status IN {_OPEN_SQL}", key)

    async def transition(
        self,
        confirmation_id: str,
        expected: Collection[Status],
        change: Change,
        *,
        unexpired: bool = False,
        expired: bool = False,
    ) -> tuple[PendingConfirmation, Status] | None:
        updates = [_update(step) for step in change.chain()]
        select = f"SELECT {_COLUMNS} FROM confirmations WHERE id = ?"
        now = _micros(change.at)

        def transition(conn: sqlite3.Connection) -> tuple[PendingConfirmation, Status] | None:
            with _write(conn):
                row = conn.execute(
                    "SELECT status, expires_at FROM confirmations WHERE id = ?",
                    (confirmation_id,),
                ).fetchone()
                if row is None:
                    return None
                status, expires_at = Status(row[0]), row[1]
                if status not in expected:
                    return None
                if (unexpired and expires_at <= now) or (expired and expires_at > now):
                    return None
                before = status
                for step, (update, values) in zip(change.chain(), updates, strict=True):
                    conn.execute(update, (*values, confirmation_id))
                    _add_history(conn, confirmation_id, before, step.status, step.actor, step.at)
                    before = step.status
                return _record(conn.execute(select, (confirmation_id,)).fetchone()), status

        return await self._run(transition)

    async def expire_due(
        self, now: datetime, actor: Actor, limit: int | None = None
    ) -> list[Expired]:
        at = _micros(now)
        due = f"status IN {_OPEN_SQL} AND expires_at <= ?"
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
        cutoff = _micros(before)
        old = f"status IN {_TERMINAL_SQL} AND updated_at < ?"

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
        sql = f"SELECT {_COLUMNS} FROM confirmations"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            values.append(limit)

        def select(conn: sqlite3.Connection) -> list[PendingConfirmation]:
            return [_record(row) for row in conn.execute(sql, values).fetchall()]

        return await self._run(select)

    async def history(self, confirmation_id: str) -> list[HistoryEntry]:
        def select(conn: sqlite3.Connection) -> list[HistoryEntry]:
            rows = conn.execute(
                "SELECT from_status, to_status, actor_user, actor_channel, at"
                " FROM confirmation_history WHERE confirmation_id = ? ORDER BY seq",
                (confirmation_id,),
            ).fetchall()
            return [
                HistoryEntry(
                    confirmation_id,
                    None if from_status is None else Status(from_status),
                    Status(to_status),
                    Actor(actor_user, actor_channel),
                    _EPOCH + at * _MICROSECOND,
                )
                for from_status, to_status, actor_user, actor_channel, at in rows
            ]

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
