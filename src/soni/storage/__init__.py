"""Where a bot keeps its state, and how several processes share it (``open_storage``)."""

from __future__ import annotations

from pathlib import Path

from soni.storage.base import Backend, Notice, Storage, StorageStatus

__all__ = ("Backend", "Notice", "Storage", "StorageStatus", "is_postgres_url", "open_storage")

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(_POSTGRES_SCHEMES)


async def open_storage(
    location: str | Path,
    *,
    secret: bytes | None = None,
    migrate: bool = True,
    listen: bool = True,
) -> Storage:
    """Open the storage at ``location``: ``":memory:"``, a SQLite file, or a PostgreSQL URL.

    Args:
        location: Where. A SQLite file and its folder are created if missing.
        secret: What confirmation tokens are derived under.
        migrate: Create or upgrade PostgreSQL tables (SQLite's are always).
        listen: On PostgreSQL, receive other processes' notices.

    Raises:
        SoniError: the database cannot be opened.
    """
    text = str(location)
    if text == ":memory:":
        from soni.storage.local import open_memory

        return open_memory(secret)
    if is_postgres_url(text):
        from soni.storage.postgres import open_postgres

        return await open_postgres(text, secret=secret, migrate_schema=migrate, listen=listen)
    from soni.storage.local import open_sqlite

    return await open_sqlite(text, secret)
