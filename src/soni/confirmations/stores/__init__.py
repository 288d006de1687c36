"""Where confirmations are kept."""

from soni.confirmations.stores.base import Change, ConfirmationStore
from soni.confirmations.stores.memory import MemoryConfirmationStore
from soni.confirmations.stores.sqlite import SqliteConfirmationStore

__all__ = ("Change", "ConfirmationStore", "MemoryConfirmationStore", "SqliteConfirmationStore")
