"""The ``--db`` of the commands that open a bot's state, checked before anything opens it.

``--db`` is a SQLite file, ``:memory:`` where a command allows it, or a
``postgresql://`` URL; every command reads ``SONI_DB`` when it is not given. A URL
is shown without its password in every message (``shown``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlsplit

from soni.cli._output import fail, reported
from soni.errors import SoniError

if TYPE_CHECKING:
    from soni.storage import StorageStatus

T = TypeVar("T")

__all__ = (
    "DB_ENVVAR",
    "check_db",
    "check_postgres",
    "check_soni_sqlite",
    "is_url",
    "migrated",
    "run_storage",
    "shown",
    "sqlite_version",
)

DB_ENVVAR = "SONI_DB"
"""The variable ``--db`` falls back to: one place to name a deployment's database."""

_CONNECT_TIMEOUT = 5  # seconds: a database that does not answer by then is down for us


def is_url(db: str | Path | None) -> bool:
    """Whether ``db`` names a PostgreSQL database rather than a SQLite file."""
    # soni.storage costs a fifth of a second to import: not for `soni --help`.
    from soni.storage import is_postgres_url

    return db is not None and is_postgres_url(str(db))


def shown(db: str | Path) -> str:
    """``db`` as messages show it: a URL without its password, a path as given."""
    text = str(db)
    if is_url(text):
        from soni.storage.postgres import shown_url

        return shown_url(text)
    return text


def check_db(db: str | Path | None) -> None:
    """Refuse a ``--db`` that cannot be used, as one line, before a bot starts on it.

    A SQLite file that does not exist yet is fine (the bot creates it); a folder, or
    a file that is not a SQLite database, would otherwise surface as a traceback
    from the bot's start-up (``soni serve``) or as an unexpected error (``soni
    chat``). A PostgreSQL URL is tried with a short connection, so a wrong host,
    user or password is one line here rather than a failed start-up later.
    """
    if db is None or str(db) == ":memory:":
        return
    if is_url(db):
        check_postgres(str(db))
        return
    path = Path(db)
    if path.is_dir():
        fail(f"--db {path} is a folder; give a SQLite file (created if missing)")
    if not path.exists():
        return
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        fail(f"{path} cannot be read as a SQLite database: {exc}")


def check_postgres(url: str) -> None:
    """Connect to ``url`` once and hang up; a failure is one line naming it, never its password."""
    from soni.storage import require_postgres

    try:
        require_postgres()
    except SoniError as exc:
        fail(str(exc))
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=_CONNECT_TIMEOUT, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        fail(f"cannot reach the PostgreSQL database {shown(url)}: {_first_line(exc, url)}")


def _first_line(exc: Exception, url: str) -> str:
    """libpq's message, on one line, with the password blanked should it ever quote it."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    password = urlsplit(url).password
    if password:
        text = text.replace(password, "***").replace(unquote(password), "***")
    return text


def check_soni_sqlite(
    path: Path,
    *,
    empty: str = "holds no confirmations: give the bot's state database (soni serve --db)",
) -> None:
    """Refuse anything but an existing soni database: a command reading one never creates it.

    Args:
        empty: What to say of a SQLite file without soni's tables, after its path.
    """
    if not path.exists():
        fail(f"no such database: {path}")
    if not path.is_file():
        fail(f"not a database file: {path}")
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'confirmations'"
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        fail(f"{path} cannot be read as a SQLite database: {exc}")
    if found is None:
        fail(f"{path} {empty}")


def sqlite_version(path: Path) -> int | None:
    """The schema version a soni SQLite file records (``PRAGMA user_version``); ``None``: no file.

    Read without opening the storage, which would upgrade it: ``soni db migrate``
    shows the version it found before it did.
    """
    if not path.is_file():
        return None
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def run_storage(work: Awaitable[T]) -> T:
    """Run ``work`` on the storage; every error is one line, a schema too new included."""

    async def run() -> T:
        try:
            return await work
        except RuntimeError as exc:
            # The stores refuse a schema newer than theirs with a RuntimeError that
            # says so (and which database): that is the whole message.
            fail(str(exc))

    with reported():
        return asyncio.run(run())


async def migrated(db: str) -> StorageStatus:
    """Create or upgrade every table of the storage at ``db``; its status after."""
    from soni.storage import open_storage

    storage = await open_storage(db, migrate=True, listen=False)
    try:
        # The SQLite confirmation store creates or upgrades its tables when first
        # used (and refuses a newer schema then): use it once.
        await storage.confirmations.get("")
        return await storage.status()
    finally:
        await storage.close()
