"""Where a bot keeps its state, and how several processes share it (``open_storage``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from soni.errors import SoniError
from soni.storage.base import Backend, Notice, Storage, StorageStatus

if TYPE_CHECKING:
    from soni.confirmations import ConfirmationEvent, ConfirmationRegistry

__all__ = (
    "Backend",
    "Notice",
    "Storage",
    "StorageStatus",
    "announce_confirmations",
    "is_postgres_url",
    "open_storage",
    "require_postgres",
)

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")

# What the ``postgres`` extra installs (pyproject.toml), by the module each provides.
_POSTGRES_MODULES = {
    "psycopg": "psycopg",
    "psycopg_pool": "psycopg-pool",
    "langgraph.checkpoint.postgres": "langgraph-checkpoint-postgres",
}


def require_postgres() -> None:
    """Fail clearly when PostgreSQL support (the ``postgres`` extra) is not installed.

    Raises:
        SoniError: naming what is missing and the command that installs it.
    """
    missing = [dist for module, dist in _POSTGRES_MODULES.items() if not _importable(module)]
    if missing:
        raise SoniError(
            f"PostgreSQL support is not installed (no {', '.join(missing)}): "
            "pip install 'soni[postgres]'"
        )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing, or blocked
        return False


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
        require_postgres()
        from soni.storage.postgres import open_postgres

        return await open_postgres(text, secret=secret, migrate_schema=migrate, listen=listen)
    from soni.storage.local import open_sqlite

    return await open_sqlite(text, secret)


def announce_confirmations(storage: Storage, registry: ConfirmationRegistry) -> Callable[[], None]:
    """Tell the other processes on ``storage`` of every transition ``registry`` commits.

    A bot does it for its own registry; so does any other program deciding
    confirmations on a shared database (``soni confirmations approve``), so that
    servers' waiters and event streams hear of it at once. Nothing is sent for the
    embedded backends (nobody else listens).

    Returns:
        A function that stops it.
    """
    if not storage.shared:
        return lambda: None

    async def announce(event: ConfirmationEvent) -> None:
        if event.remote:
            return  # heard from another process: it told everyone already
        await storage.publish(
            Notice(
                "confirmation",
                event.conversation_id,
                storage.origin,
                confirmation_id=event.confirmation_id,
                from_status=None if event.from_status is None else event.from_status.value,
                to_status=event.to_status.value,
                user_id=event.user_id,
                actor_user=event.actor.user_id,
                actor_channel=event.actor.channel,
            )
        )

    return registry.subscribe(announce)
