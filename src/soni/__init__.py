"""soni: task-oriented chatbots from YAML flows, with a safe action layer on LangGraph."""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from soni.actions import ActionContext, ActionRegistry, ActionSpec, load_actions
from soni.actions.validators import validator
from soni.dsl import BotConfig, load_bot, validate_bot
from soni.errors import (
    ActionArgumentError,
    ActionError,
    ActionFailed,
    ActionLoadError,
    ActionNotFound,
    ActionRegistrationError,
    ActionTimeout,
    AlreadyDecided,
    ConfigError,
    ConfigErrors,
    ConfirmationClosed,
    ConfirmationError,
    ConfirmationExpired,
    ConversationBusy,
    InvalidDecision,
    SlotValueError,
    SoniError,
    UnknownConfirmation,
)

if TYPE_CHECKING:
    from soni.engine import Bot, PendingView, ReplyView, SyncBot, TurnResult
    from soni.server import ServerSettings, create_app

# The runtime pulls in LangGraph; a handler module that only needs
# ``from soni import ActionRegistry`` should not pay for that import.
_LAZY = {
    "Bot": "soni.engine.runtime",
    "TurnResult": "soni.engine.runtime",
    "PendingView": "soni.engine.results",
    "ReplyView": "soni.engine.results",
    "SyncBot": "soni.engine.sync",
    "create_app": "soni.server",
    "ServerSettings": "soni.server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'soni' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Every public name, the lazily imported ones (``Bot``, ``create_app``…) too, as
    ``dir(soni)`` and editors' completion expect."""
    return sorted({*globals(), *__all__})


try:
    __version__ = version("soni")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = (
    "ActionArgumentError",
    "ActionContext",
    "ActionError",
    "ActionFailed",
    "ActionLoadError",
    "ActionNotFound",
    "ActionRegistrationError",
    "ActionRegistry",
    "ActionSpec",
    "ActionTimeout",
    "AlreadyDecided",
    "Bot",
    "BotConfig",
    "ConfigError",
    "ConfigErrors",
    "ConfirmationClosed",
    "ConfirmationError",
    "ConfirmationExpired",
    "ConversationBusy",
    "InvalidDecision",
    "PendingView",
    "ReplyView",
    "ServerSettings",
    "SlotValueError",
    "SoniError",
    "SyncBot",
    "TurnResult",
    "UnknownConfirmation",
    "__version__",
    "create_app",
    "load_actions",
    "load_bot",
    "validate_bot",
    "validator",
)
