"""Understanding user messages: commands, structured messages, the Understanding protocol."""

from soni.nlu.commands import (
    Affirm,
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

__all__ = (
    "MAX_MESSAGE_CHARS",
    "Affirm",
    "CancelFlow",
    "Choose",
    "Clarify",
    "Command",
    "ConversationContext",
    "CorrectSlot",
    "Deny",
    "FlowInfo",
    "Help",
    "OutOfScope",
    "PendingInfo",
    "SetSlot",
    "SlotInfo",
    "StartFlow",
    "Understanding",
    "is_structured",
    "parse_structured",
)
