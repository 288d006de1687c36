"""What the HTTP API and the WebSocket protocol read and write (pydantic at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from soni.confirmations.protocol import MESSAGE_PATTERN
from soni.confirmations.records import Status as _ConfirmationStatus

__all__ = (
    "ActionsOut",
    "ActorOut",
    "ChooseIn",
    "ConfirmationOut",
    "ConfirmationStatus",
    "ConfirmationsOut",
    "ConversationOut",
    "DecideArgs",
    "DecisionMessageIn",
    "DecisionOut",
    "ErrorOut",
    "HealthOut",
    "MessageArgs",
    "MessageIn",
    "PendingOut",
    "ProblemOut",
    "ReplyOut",
    "SubscribeArgs",
    "TurnOut",
)

Status = Literal["active", "awaiting_input", "awaiting_confirmation", "ended"]

ConfirmationStatus = Annotated[
    _ConfirmationStatus,
    # Inline, not a component named after the enum: "Status" alone would read as a
    # conversation's status. The values come from the enum, so a new status is
    # documented as soon as it exists.
    WithJsonSchema(
        {
            "type": "string",
            "enum": [status.value for status in _ConfirmationStatus],
            "description": "Where the confirmation is in its life (docs/confirmations.md).",
        }
    ),
]

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

    # The pattern is documented, not validated here: a message that does not match
    # is answered by the protocol's own 422 (invalid-decision-message), which never
    # repeats the text.
    message: str = Field(json_schema_extra={"pattern": MESSAGE_PATTERN})


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
    status: ConfirmationStatus
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


class ErrorOut(BaseModel):
    """One reason a request was invalid: where (``loc``) and what (``msg``, ``type``)."""

    model_config = ConfigDict(extra="forbid")

    loc: list[str | int]
    msg: str
    type: str


# The members after ``detail`` come only with the problems that carry them; absent,
# not null, otherwise (SkipJsonSchema keeps ``null`` out of the documented types).
_Absent = SkipJsonSchema[None]


def _without_defaults(schema: dict[str, Any]) -> None:
    # An absent member has no default worth documenting (and ``null`` is not a value
    # of most of them).
    for member in schema.get("properties", {}).values():
        member.pop("default", None)


class ProblemOut(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``).

    ``type`` is ``urn:soni:problem:<slug>``; the slugs are listed in docs/server.md.
    """

    model_config = ConfigDict(extra="forbid", title="Problem", json_schema_extra=_without_defaults)

    type: str = Field(pattern=r"^urn:soni:problem:[a-z0-9-]+$")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    confirmation_id: str | _Absent = Field(
        default=None, description="The confirmation concerned (409 and 410 answers)."
    )
    decision: str | None = Field(
        default=None, description="already-decided: the recorded decision."
    )
    confirmation_status: ConfirmationStatus | _Absent = Field(
        default=None, description="already-decided, confirmation-closed: its status now."
    )
    decided_by: ActorOut | None = Field(
        default=None, description="already-decided: who decided, when known."
    )
    decided_at: datetime | None = Field(
        default=None, description="already-decided: when, when known."
    )
    expired_at: datetime | None = Field(
        default=None, description="confirmation-expired: when its time ran out."
    )
    options: list[str] | _Absent = Field(
        default=None, description="invalid-decision: the options offered."
    )
    errors: list[ErrorOut] | _Absent = Field(
        default=None, description="invalid-request: every invalid part of the request."
    )
    limit: int | _Absent = Field(
        default=None, description="body-too-large: the largest body accepted, in bytes."
    )
