"""The flow engine: a bot's flows compiled to a LangGraph graph and run, one turn at a
time per conversation, with its actions, confirmations and state.

What other packages use of it is here (imported when first used, so that checking a
bot does not pay for LangGraph): :class:`Bot` and :class:`SyncBot`, what a turn
returns (:class:`TurnResult`, :class:`ReplyView`, :class:`PendingView`), what happens
to a bot (:class:`BotEvents` and its events), and the one pipeline that loads and
checks a bot (:func:`load_config`, :func:`check_bot`, :class:`CheckReport`).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soni.engine.check import CheckReport, check_bot, load_config
    from soni.engine.events import (
        ActionOutcome,
        ActionRan,
        BotEvent,
        BotEvents,
        ConfirmationChanged,
        ConversationReset,
        TurnCompleted,
    )
    from soni.engine.results import PendingView, ReplyView, TurnResult
    from soni.engine.runtime import Bot
    from soni.engine.sync import SyncBot

_LAZY = {
    "Bot": "soni.engine.runtime",
    "SyncBot": "soni.engine.sync",
    "TurnResult": "soni.engine.results",
    "ReplyView": "soni.engine.results",
    "PendingView": "soni.engine.results",
    "BotEvents": "soni.engine.events",
    "BotEvent": "soni.engine.events",
    "ActionOutcome": "soni.engine.events",
    "ActionRan": "soni.engine.events",
    "ConfirmationChanged": "soni.engine.events",
    "ConversationReset": "soni.engine.events",
    "TurnCompleted": "soni.engine.events",
    "CheckReport": "soni.engine.check",
    "check_bot": "soni.engine.check",
    "load_config": "soni.engine.check",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'soni.engine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = (
    "ActionOutcome",
    "ActionRan",
    "Bot",
    "BotEvent",
    "BotEvents",
    "CheckReport",
    "ConfirmationChanged",
    "ConversationReset",
    "PendingView",
    "ReplyView",
    "SyncBot",
    "TurnCompleted",
    "TurnResult",
    "check_bot",
    "load_config",
)
