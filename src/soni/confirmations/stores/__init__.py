"""Where confirmations are kept."""

from typing import TYPE_CHECKING, Any

from soni.confirmations.stores.base import Change, ConfirmationStore
from soni.confirmations.stores.memory import MemoryConfirmationStore
from soni.confirmations.stores.sqlite import SqliteConfirmationStore

if TYPE_CHECKING:
    from soni.confirmations.stores.postgres import PostgresConfirmationStore


def __getattr__(name: str) -> Any:
    # psycopg costs a third of a second to import: only those who use PostgreSQL pay.
    if name == "PostgresConfirmationStore":
        from soni.confirmations.stores.postgres import PostgresConfirmationStore

        return PostgresConfirmationStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = (
    "Change",
    "ConfirmationStore",
    "MemoryConfirmationStore",
    "PostgresConfirmationStore",
    "SqliteConfirmationStore",
)
