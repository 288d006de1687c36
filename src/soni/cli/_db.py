"""The ``--db`` of ``soni chat`` and ``soni serve``, checked before a bot opens it."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from soni.cli._output import fail

__all__ = ("check_db",)


def check_db(db: str | Path | None) -> None:
    """Refuse a ``--db`` SQLite cannot use, as one line, before a bot starts on it.

    A file that does not exist yet is fine (the bot creates it); a folder, or a file
    that is not a SQLite database, would otherwise surface as a traceback from the
    bot's start-up (``soni serve``) or as an unexpected error (``soni chat``).
    """
    if db is None or str(db) == ":memory:":
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
