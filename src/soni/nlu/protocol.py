"""The Understanding protocol: text plus conversation context in, commands out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

from soni.nlu.commands import Command

__all__ = (
    "MAX_MESSAGE_CHARS",
    "ConversationContext",
    "FlowInfo",
    "PendingInfo",
    "SlotInfo",
    "Understanding",
)

MAX_MESSAGE_CHARS = 10_000
"""The longest user message soni accepts, in characters.

``Bot.handle`` refuses a longer one before anything reads it, so understanding
(and a language model behind it) never sees it and no checkpoint stores it.
"""


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """A slot as understanding needs to know it.

    Attributes:
        name: The slot.
        kind: Its type (``integer``, ``date``, ``choice``…).
        choices: For a choice, each value with its synonyms.
        validator: The validator it declares, if any: ``phone`` or ``email`` on a
            text slot tells understanding what to look for in an answer.
        words: What the slot is called in its prompt and description ("How many
            packs?", "the weight in kg"): a number said with one of these words ("5
            packs", "3kg") is a value for it even when nobody asked. For a time,
            ``pm`` or ``am`` when its prompt says which half of the day it means.
        pattern: The regular expression a ``string`` slot's value must match whole,
            if it declares one: the span of a message it matches is the value
            ("cancel booking BK-5678 please"), and no other text is.
        about: The slot's prompt and description as written: words of the flows
            that ask for it ("Which items were affected?" makes "items" one of them).
    """

    name: str
    kind: str
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)
    validator: str | None = None
    words: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None
    about: str = ""


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """A flow's triggers and slots."""

    name: str
    description: str = ""
    intents: Sequence[str] = ()
    slots: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class PendingInfo:
    """The confirmation waiting for an answer."""

    confirmation_id: str
    options: Sequence[str]
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConversationContext:
    """Everything understanding may use besides the text.

    Attributes:
        active_flow: The flow on top of the stack, if any.
        expected_slot: The slot being collected, if the bot just asked for one.
        slots: Current slot values.
        pending: The confirmation waiting for an answer, if any (its options and
            their labels).
        awaiting_confirm_step: The pending confirmation is a ``confirm`` step's
            yes/no question (no action behind it).
        flows: Every flow of the bot (triggers, and the slots it asks for).
        slot_types: Every declared slot (type, choices with synonyms).
        today: The date relative dates ("tomorrow") count from; today when unset.
    """

    active_flow: str | None = None
    expected_slot: SlotInfo | None = None
    slots: Mapping[str, Any] = field(default_factory=dict)
    pending: PendingInfo | None = None
    awaiting_confirm_step: bool = False
    flows: Sequence[FlowInfo] = ()
    slot_types: Mapping[str, SlotInfo] = field(default_factory=dict)
    today: date | None = None


@runtime_checkable
class Understanding(Protocol):
    """Turns a user message into dialogue commands.

    Implementations must not raise on unexpected input: what they cannot read
    becomes ``OutOfScope``.
    """

    async def understand(self, text: str, context: ConversationContext) -> list[Command]: ...
