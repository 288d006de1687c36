"""The conversation state kept in LangGraph checkpoints.

Plain JSON-able ``TypedDict``s: checkpoints outlive processes and soni versions, so
nothing here is a Python object that a serialiser would have to know about.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

__all__ = ("ConversationState", "Frame", "Reply", "Waiting")


class Frame(TypedDict):
    """One running flow on the stack.

    Attributes:
        id: Unique within the conversation (``f1``, ``f2``, …); part of the
            idempotency keys of its confirmations and actions.
        flow: The flow's name.
        pos: The position of its current instruction (``program.END`` when done).
        returns: For a flow started by a ``call`` step, the caller's slot for each
            of this flow's output slots.
        confirmation: The id of the confirmation the current step registered.
        moves: How many times the flow has moved on from a step. With the frame's
            id and the step, it names one visit of a step: the same while a visit
            is unfinished (a turn retried after a crash, or cut off mid-step and
            carried on by the next message), another for each later visit.
    """

    id: str
    flow: str
    pos: int
    returns: NotRequired[dict[str, str] | None]
    confirmation: NotRequired[str | None]
    moves: NotRequired[int]


class Waiting(TypedDict):
    """What the conversation is paused for."""

    kind: Literal["slot", "confirmation", "idle"]
    slot: NotRequired[str]
    confirmation: NotRequired[str]


class Reply(TypedDict):
    """One bot message of a turn."""

    text: str
    kind: NotRequired[str]


class ConversationState(TypedDict, total=False):
    """Everything a conversation remembers between turns."""

    stack: list[Frame]
    slots: dict[str, Any]
    replies: list[Reply]
    waiting: Waiting | None
    message: Any
    turn: int
    steps: int
    frames: int
    user_id: str | None
    conversation_id: str
    generation: int
