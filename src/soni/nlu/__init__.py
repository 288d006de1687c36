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
from soni.nlu.protocol import ConversationContext, FlowInfo, PendingInfo, SlotInfo, Understanding
from soni.nlu.structured import is_structured, parse_structured

__all__ = (
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
