"""The embedded backends: memory (lost on exit) and one SQLite file (the default)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver

from soni.confirmations import MemoryConfirmationStore, Runner, SqliteConfirmationStore
from soni.confirmations.runners import runners_folder
from soni.storage.base import Storage, StorageStatus
from soni.storage.journal import MemoryActionJournal, SqliteActionJournal
from soni.storage.retention import SqliteRetention

__all__ = ("SqliteStorage", "journal_path", "open_memory", "open_sqlite")


def open_memory(secret: bytes | None = None) -> Storage:
    """Everything in this process's memory: for tests and throwaway bots."""
    return Storage(
        backend="memory",
        location=":memory:",
        checkpointer=InMemorySaver(),
        confirmations=MemoryConfirmationStore(),
        journal=MemoryActionJournal(),
        runner=Runner(),
        secret=secret,
    )


def journal_path(location: str) -> str:
    """The action journal's file, beside the database: ``state.db`` → ``state.actions.db``."""
    path = Path(location)
    return str(path.with_name(f"{path.stem}.actions{path.suffix or '.db'}"))


class SqliteStorage(Storage):
    """One SQLite file (WAL) for checkpoints and confirmations, a second for the journal."""

    async def status(self) -> StorageStatus:
        def counts(path: str, tables: tuple[str, ...]) -> dict[str, int]:
            rows: dict[str, int] = {}
            uri = f"{Path(path).resolve().as_uri()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
                present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
                for table in tables:
                    if table in present:
                        rows[table] = int(
                            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                        )
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            rows["__version__"] = version
            return rows

        main = await asyncio.to_thread(
            counts,
            self.location,
            ("checkpoints", "writes", "confirmations", "confirmation_history"),
        )
        journal = await asyncio.to_thread(
            counts,
            journal_path(self.location),
            ("soni_action_runs", "soni_conversation_generations"),
        )
        schema = {"confirmations": main.pop("__version__")}
        journal.pop("__version__")
        return StorageStatus("sqlite", self.location, schema, {**main, **journal})


async def open_sqlite(location: str, secret: bytes | None = None) -> Storage:
    """A SQLite file (created with its folder if missing), as ``make serve`` uses."""
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    Path(location).parent.mkdir(parents=True, exist_ok=True)
    connecting = aiosqlite.connect(location)
    # aiosqlite's worker thread is not a daemon: a program that forgets
    # `await bot.aclose()` would hang at exit, waiting for it. Whatever was
    # committed is on disk either way.
    worker = getattr(connecting, "_thread", None)
    if isinstance(worker, threading.Thread) and not worker.is_alive():
        worker.daemon = True
    connection = await connecting
    retention: SqliteRetention | None = None
    try:
        # Before any table exists, or it cannot be set without rewriting the file:
        # freed pages can then be given back a few at a time (``SqliteRetention``).
        await connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
        await connection.execute("PRAGMA journal_mode=WAL")
        saver = AsyncSqliteSaver(connection)
        await saver.setup()
        retention = SqliteRetention(saver, location)
        await retention.setup()
        store = SqliteConfirmationStore(location)
        journal = SqliteActionJournal(journal_path(location))
    except BaseException:
        if retention is not None:
            retention.close()
        await connection.close()
        raise
    # The runner holds its lock beside the file, so other processes on the database
    # (the CLI) can tell whether this one is alive.
    return SqliteStorage(
        backend="sqlite",
        location=location,
        checkpointer=saver,
        confirmations=store,
        journal=journal,
        runner=Runner(runners_folder(location)),
        secret=secret,
        closers=(connection.close, retention.close),
        retention=retention,
    )
