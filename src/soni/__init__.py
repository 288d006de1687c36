"""soni: task-oriented chatbots from YAML flows, with a safe action layer on LangGraph."""

from typing import TYPE_CHECKING, Any

from soni.errors import ConversationBusy, SoniError

if TYPE_CHECKING:
    from soni.actions import ActionContext, ActionRegistry, ActionSpec, load_actions
    from soni.actions.errors import (
        ActionArgumentError,
        ActionError,
        ActionFailed,
        ActionLoadError,
        ActionNotFound,
        ActionRegistrationError,
        ActionTimeout,
    )
    from soni.actions.validators import validator
    from soni.confirmations.errors import (
        AlreadyDecided,
        ConfirmationClosed,
        ConfirmationError,
        ConfirmationExpired,
        InvalidDecision,
        UnknownConfirmation,
    )
    from soni.dsl import BotConfig, load_bot, validate_bot
    from soni.dsl.errors import ConfigError, ConfigErrors, SlotValueError
    from soni.engine import Bot, PendingView, ReplyView, SyncBot, TurnResult
    from soni.server import ServerSettings, create_app

    __version__: str

# Every import of a soni module runs this file first, so it imports nothing but the
# root errors (standard library only); the others load with their package, on first
# use: a program that only uses ``soni.client`` must not pay for the bot language
# (pydantic models, YAML), and a handler module that only needs
# ``from soni import ActionRegistry`` must not pay for LangGraph.
_LAZY = {
    "ActionArgumentError": "soni.actions.errors",
    "ActionError": "soni.actions.errors",
    "ActionFailed": "soni.actions.errors",
    "ActionLoadError": "soni.actions.errors",
    "ActionNotFound": "soni.actions.errors",
    "ActionRegistrationError": "soni.actions.errors",
    "ActionTimeout": "soni.actions.errors",
    "AlreadyDecided": "soni.confirmations.errors",
    "ConfirmationClosed": "soni.confirmations.errors",
    "ConfirmationError": "soni.confirmations.errors",
    "ConfirmationExpired": "soni.confirmations.errors",
    "InvalidDecision": "soni.confirmations.errors",
    "UnknownConfirmation": "soni.confirmations.errors",
    "ConfigError": "soni.dsl.errors",
    "ConfigErrors": "soni.dsl.errors",
    "SlotValueError": "soni.dsl.errors",
    "ActionContext": "soni.actions",
    "ActionRegistry": "soni.actions",
    "ActionSpec": "soni.actions",
    "load_actions": "soni.actions",
    "BotConfig": "soni.dsl",
    "load_bot": "soni.dsl",
    "validate_bot": "soni.dsl",
    "validator": "soni.actions.validators",
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

        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name == "__version__":
        # importlib.metadata alone costs tens of milliseconds at start-up.
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("soni")
        except PackageNotFoundError:  # running from a source tree that was never installed
            value = "0.0.0"
    else:
        raise AttributeError(f"module 'soni' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Every public name, the lazily imported ones (``Bot``, ``create_app``…) too, as
    ``dir(soni)`` and editors' completion expect."""
    return sorted({*globals(), *__all__})


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
