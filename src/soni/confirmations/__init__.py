"""Pending confirmations: durable, single-use tokens, and exactly one decision each."""

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
from soni.errors import (
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationError,
    ConfirmationExpired,
    ConfirmationNotApproved,
    InvalidDecision,
    InvalidDecisionMessage,
    UnknownConfirmation,
)

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
