"""Dialogue commands: what a user message means to the conversation.

Understanding turns text into a list of these; the engine applies them. Each is a
frozen dataclass tagged by ``kind``, so a list of commands serialises as plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = (
    "Affirm",
    "AskDecision",
    "CancelFlow",
    "Choose",
    "Clarify",
    "Command",
    "CorrectSlot",
    "Deny",
    "Help",
    "OutOfScope",
    "SetSlot",
    "StartFlow",
)


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class StartFlow:
    """Start ``flow``, with slot values the message already gave."""

    flow: str
    slots: Mapping[str, Any] = field(default_factory=dict)
    kind: Literal["start_flow"] = "start_flow"

    def __post_init__(self) -> None:
        object.__setattr__(self, "slots", _frozen(self.slots))


@dataclass(frozen=True, slots=True)
class SetSlot:
    """Fill ``slot`` with ``value`` (typically the slot being asked for)."""

    slot: str
    value: Any
    kind: Literal["set_slot"] = "set_slot"


@dataclass(frozen=True, slots=True)
class CorrectSlot:
    """Change an already filled ``slot`` to ``value`` ("actually, make it 5")."""

    slot: str
    value: Any
    kind: Literal["correct_slot"] = "correct_slot"


@dataclass(frozen=True, slots=True)
class CancelFlow:
    """Cancel the active flow."""

    kind: Literal["cancel_flow"] = "cancel_flow"


@dataclass(frozen=True, slots=True)
class Affirm:
    """Yes: approve the pending confirmation or confirm step."""

    kind: Literal["affirm"] = "affirm"


@dataclass(frozen=True, slots=True)
class Deny:
    """No: skip the pending confirmation or deny the confirm step."""

    kind: Literal["deny"] = "deny"


@dataclass(frozen=True, slots=True)
class Choose:
    """Pick ``option`` among the offered actions."""

    option: str
    kind: Literal["choose"] = "choose"


@dataclass(frozen=True, slots=True)
class Clarify:
    """The message could mean several flows; ask which."""

    candidates: tuple[str, ...]
    kind: Literal["clarify"] = "clarify"


@dataclass(frozen=True, slots=True)
class AskDecision:
    """At a pending confirmation, the message neither plainly refuses nor plainly
    corrects ("no, the amount is wrong"): ask whether to skip the action or change
    something. Nothing is decided and no slot changes."""

    kind: Literal["ask_decision"] = "ask_decision"


@dataclass(frozen=True, slots=True)
class Help:
    """The user asks what they can do."""

    kind: Literal["help"] = "help"


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """Nothing in the message could be understood."""

    text: str = ""
    kind: Literal["out_of_scope"] = "out_of_scope"


Command = (
    StartFlow
    | SetSlot
    | CorrectSlot
    | CancelFlow
    | Affirm
    | Deny
    | Choose
    | Clarify
    | AskDecision
    | Help
    | OutOfScope
)
