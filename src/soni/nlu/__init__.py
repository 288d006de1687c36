"""Understanding user messages: commands, structured messages, the Understanding protocol."""

from typing import TYPE_CHECKING, Any

from soni.nlu.commands import (
    Affirm,
    AskDecision,
    CancelFlow,
    Choose,
    Clarify,
    Command,
    CorrectSlot,
    Deny,
    Help,
    OutOfScope,
    SetSlot,
    StartFlow,
)
from soni.nlu.protocol import (
    MAX_MESSAGE_CHARS,
    ConversationContext,
    FlowInfo,
    PendingInfo,
    SlotInfo,
    Understanding,
)
from soni.nlu.structured import is_structured, parse_structured

if TYPE_CHECKING:
    from soni.nlu.llm import LLMSettings, LLMUnderstanding

__all__ = (
    "MAX_MESSAGE_CHARS",
    "Affirm",
    "AskDecision",
    "CancelFlow",
    "Choose",
    "Clarify",
    "Command",
    "ConversationContext",
    "CorrectSlot",
    "Deny",
    "FlowInfo",
    "Help",
    "LLMSettings",
    "LLMUnderstanding",
    "OutOfScope",
    "PendingInfo",
    "SetSlot",
    "SlotInfo",
    "StartFlow",
    "Understanding",
    "is_structured",
    "parse_structured",
)


def __getattr__(name: str) -> Any:
    # The LLM backend pulls in httpx (tens of milliseconds); only bots that use it
    # should pay for that at import.
    if name in ("LLMSettings", "LLMUnderstanding"):
        from soni.nlu import llm

        return getattr(llm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
