"""Pending confirmations: durable, single-use tokens, and exactly one decision each."""

from typing import TYPE_CHECKING, Any

from soni.confirmations.errors import (
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationError,
    ConfirmationExpired,
    ConfirmationNotApproved,
    InvalidDecision,
    InvalidDecisionMessage,
    UnknownConfirmation,
)
from soni.confirmations.protocol import (
    Choose,
    DecisionMessage,
    Execute,
    Shown,
    Skip,
    format_decision_message,
    parse_decision_message,
)
from soni.confirmations.records import (
    ActionCall,
    Actor,
    HistoryEntry,
    PendingConfirmation,
    Status,
)
from soni.confirmations.registry import (
    ConfirmationEvent,
    ConfirmationRegistry,
    Execution,
)
from soni.confirmations.runners import Runner, runners_folder
from soni.confirmations.stores import (
    ConfirmationStore,
    MemoryConfirmationStore,
    SqliteConfirmationStore,
)
from soni.confirmations.sweeper import ExpirySweeper

if TYPE_CHECKING:
    from soni.confirmations.stores.postgres import PostgresConfirmationStore


def __getattr__(name: str) -> Any:
    # Loaded on first use: it imports psycopg (see soni.confirmations.stores).
    if name == "PostgresConfirmationStore":
        from soni.confirmations.stores.postgres import PostgresConfirmationStore

        return PostgresConfirmationStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = (
    "ActionCall",
    "Actor",
    "AlreadyDecided",
    "Choose",
    "ConfirmationClosed",
    "ConfirmationError",
    "ConfirmationEvent",
    "ConfirmationExpired",
    "ConfirmationNotApproved",
    "ConfirmationRegistry",
    "ConfirmationStore",
    "DecisionMessage",
    "Execute",
    "Execution",
    "ExpirySweeper",
    "HistoryEntry",
    "InvalidDecision",
    "InvalidDecisionMessage",
    "MemoryConfirmationStore",
    "PendingConfirmation",
    "PostgresConfirmationStore",
    "Runner",
    "Shown",
    "Skip",
    "SqliteConfirmationStore",
    "Status",
    "UnknownConfirmation",
    "format_decision_message",
    "parse_decision_message",
    "runners_folder",
)
