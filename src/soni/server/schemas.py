"""What the HTTP API and the WebSocket protocol read and write (pydantic at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = (
    "ActionsOut",
    "ActorOut",
    "ChooseIn",
    "ConfirmationOut",
    "ConfirmationsOut",
    "ConversationOut",
    "DecideArgs",
    "DecisionMessageIn",
    "DecisionOut",
    "HealthOut",
    "MessageArgs",
    "MessageIn",
    "PendingOut",
    "ReplyOut",
    "SubscribeArgs",
    "TurnOut",
)

Status = Literal["active", "awaiting_input", "awaiting_confirmation", "ended"]

_ID = Field(min_length=1, max_length=256)


class _In(BaseModel):
    # A misspelt field is a mistake worth telling the client about.
    model_config = ConfigDict(extra="forbid")


class MessageIn(_In):
    """A chat message. ``user_id`` is ignored when API keys are on (the key says who)."""

    text: str
    user_id: str | None = Field(default=None, max_length=256)
    metadata: dict[str, Any] | None = None


class ChooseIn(_In):
    """The option picked among the offered actions."""

    option: str = Field(min_length=1, max_length=128)


class DecisionMessageIn(_In):
    """A decision protocol message: ``EXECUTE:<token>``, ``SKIP:<token>``, …"""

    message: str


class MessageArgs(MessageIn):
    """The ``message`` instruction of the WebSocket protocol."""

    conversation_id: str = _ID


class DecideArgs(_In):
    """The ``decide`` instruction: ``approve``, ``skip`` or an offered option's name."""

    token: str = Field(min_length=1, max_length=256)
    decision: str = Field(min_length=1, max_length=128)


class SubscribeArgs(_In):
    """The ``subscribe`` instruction; no ``conversation_id`` follows every conversation."""

    conversation_id: str | None = Field(default=None, min_length=1, max_length=256)


class ReplyOut(BaseModel):
    text: str
    kind: str = "text"


class PendingOut(BaseModel):
    """A confirmation the conversation waits for.

    ``token`` is ``null`` when this process no longer knows it (after a restart):
    answering in the chat still works, and the next turn issues a fresh one.
    """

    id: str
    token: str | None
    prompt: str
    options: list[str]
    labels: list[str | None]
    expires_at: datetime


class TurnOut(BaseModel):
    """What a message produced."""

    conversation_id: str
    replies: list[ReplyOut]
    pending: list[PendingOut]
    status: Status
    active_flow: str | None


class ConversationOut(BaseModel):
    """A conversation as saved: where it is and what it last said."""

    conversation_id: str
    user_id: str | None
    status: Status
    active_flow: str | None
    flows: list[str] = Field(description="The flows on the stack, the active one last.")
    slots: dict[str, Any]
    pending: list[PendingOut]
    replies: list[ReplyOut] = Field(
        description="The replies of the last turn, including one resumed by a decision "
        "made out of band."
    )


class ActorOut(BaseModel):
    user_id: str | None
    channel: str


class ConfirmationOut(BaseModel):
    """A confirmation's state; ``token`` only in listings for the conversation's owner."""

    id: str
    conversation_id: str
    user_id: str | None
    status: str
    kind: Literal["single", "choice"]
    prompt: str
    options: list[str]
    labels: list[str | None]
    created_at: datetime
    expires_at: datetime
    decision: str | None
    decided_by: ActorOut | None
    decided_at: datetime | None
    result: dict[str, Any] | None
    error: str | None
    token: str | None = None


class ConfirmationsOut(BaseModel):
    conversation_id: str
    confirmations: list[ConfirmationOut]


class DecisionOut(BaseModel):
    """A decision and what the resumed conversation said.

    ``decision`` is the one recorded: ``skip``, or the name of the approved option
    (``shown`` for ``SHOWN``). ``status`` and ``active_flow`` are the conversation's
    after the decision; ``null`` for ``SHOWN``, which resumes nothing.
    """

    conversation_id: str
    decision: str
    status: Status | None
    active_flow: str | None
    replies: list[ReplyOut]
    pending: list[PendingOut]
    confirmation: ConfirmationOut


class ActionsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    global_: list[str] = Field(alias="global")
    local: list[str]


class HealthOut(BaseModel):
    status: str
