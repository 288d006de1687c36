"""What soni's server answers, as pydantic models: the one shape of each, for both ends.

The HTTP API returns these models, the WebSocket protocol carries them as its
results and events, and ``soni.client`` reads the same models back (its ``Reply``,
``BotMessage``, ``Pending``, ``Decision`` and ``Event`` are these). What the server
*accepts* is ``soni.server.schemas``; the client leaves checking what it sends to
the server.

Each model is named as the OpenAPI document names it (``*Out``: what the server
answers), since clients generated from the document see those names.

Strict in what is documented, tolerant in what is read: the document says what
the server always sends, and a reader also takes the answer of an older or newer
server. A member left out takes its default (an empty list, ``"active"``…), which
the document does not show; a status or kind it does not know is kept as text; a
timestamp it cannot read is ``None``. Anything else malformed fails validation,
naming the member.

This module imports nothing but pydantic and the standard library: a program that
only uses ``soni.client`` must not load the engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema

__all__ = (
    "ActionOffer",
    "ActionsOut",
    "ActorOut",
    "Announcement",
    "CallContext",
    "ConfirmationOut",
    "ConfirmationStatus",
    "ConfirmationsOut",
    "ConversationOut",
    "DecisionOut",
    "ErrorOut",
    "EventOut",
    "HealthOut",
    "InboxOut",
    "PendingOut",
    "ProblemOut",
    "ReplyOut",
    "RunAction",
    "TurnOut",
    "TurnStatus",
)

TurnStatus = Literal["active", "awaiting_input", "awaiting_confirmation", "ended"]
"""Where a conversation is after a turn."""

ConfirmationStatus = Literal[
    "pending",
    "shown",
    "approved",
    "executing",
    "executed",
    "failed",
    "interrupted",
    "skipped",
    "expired",
    "superseded",
    "cancelled",
]
"""Where a confirmation is in its life: the values of ``soni.confirmations.Status``, in
its order (``tests/server/test_openapi_contract.py`` holds the two together)."""


def _one_of(values: Any, **extra: str) -> WithJsonSchema:
    # Documents the values the server sends, in the order pydantic documents a Literal.
    return WithJsonSchema({"enum": list(get_args(values)), "type": "string", **extra})


_StatusText = Annotated[str, _one_of(TurnStatus)]
_ConfirmationStatusText = Annotated[
    str,
    _one_of(
        ConfirmationStatus,
        description="Where the confirmation is in its life (docs/confirmations.md).",
    ),
]
_KindText = Annotated[str, _one_of(Literal["single", "choice"])]


def _unreadable_is_none(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    # A timestamp is informative only: one a reader cannot read is not worth failing
    # a whole answer over.
    try:
        return handler(value)
    except ValidationError:
        return None


_Timestamp = Annotated[
    datetime | None,
    WrapValidator(_unreadable_is_none),
    WithJsonSchema({"format": "date-time", "type": "string"}),
]
"""A time the server always sends; ``None`` to a reader that got none, or none it can read."""


class _NeverNull:
    """Documents ``X | None`` as ``X``: the server always sends one; a reader that got
    none holds ``None``."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        documented = handler(schema)
        choices = [c for c in documented.get("anyOf", ()) if c != {"type": "null"}]
        if len(choices) != 1:
            return documented
        rest = {key: value for key, value in documented.items() if key != "anyOf"}
        return {**choices[0], **rest}


def _without_defaults(schema: dict[str, Any]) -> None:
    # A default that only a reader uses, or that stands for "absent", is not worth
    # documenting (and ``null`` is not a value of most of them).
    for member in schema.get("properties", {}).values():
        member.pop("default", None)


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True)


class _AlwaysSent(_Wire):
    """A model whose defaults are for readers only: the server sends every member, and
    the document lists every one as required, without a default."""

    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True, json_schema_extra=_without_defaults
    )


class ReplyOut(_Wire):
    """One message of the bot; ``str()`` of it is its text."""

    text: str
    kind: str = "text"

    def __init__(self, *members: str, **data: Any) -> None:
        # Positional too, as a record of two members reads best: BotMessage("hi").
        if len(members) > 2:
            raise TypeError(f"ReplyOut takes text and kind, got {len(members)} values")
        super().__init__(**dict(zip(("text", "kind"), members, strict=False)), **data)

    def __str__(self) -> str:
        return self.text


class PendingOut(_AlwaysSent):
    """A confirmation the conversation waits for.

    ``token`` is ``null`` when this process no longer knows it (after a restart):
    answering in the chat still works, and the next turn issues a fresh one.
    """

    id: str
    token: str | None = None
    prompt: str = ""
    options: tuple[str, ...] = ()
    labels: tuple[str | None, ...] = ()
    expires_at: _Timestamp = None


class TurnOut(_AlwaysSent):
    """What a message produced."""

    conversation_id: str
    replies: tuple[ReplyOut, ...] = ()
    pending: tuple[PendingOut, ...] = ()
    status: _StatusText = "active"
    active_flow: str | None = None

    @property
    def texts(self) -> list[str]:
        """The replies' texts, in order."""
        return [reply.text for reply in self.replies]


class ConversationOut(_Wire):
    """A conversation as saved: where it is and what it last said."""

    conversation_id: str
    user_id: str | None
    status: _StatusText
    active_flow: str | None
    flows: tuple[str, ...] = Field(description="The flows on the stack, the active one last.")
    slots: dict[str, Any]
    pending: tuple[PendingOut, ...]
    replies: tuple[ReplyOut, ...] = Field(
        description="The replies of the last turn, including one resumed by a decision "
        "made out of band."
    )


class ActorOut(_Wire):
    user_id: str | None
    channel: str


class ConfirmationOut(_Wire):
    """A confirmation's state; ``token`` only in listings for the conversation's owner."""

    id: str
    conversation_id: str
    user_id: str | None
    status: _ConfirmationStatusText
    kind: _KindText
    prompt: str
    options: tuple[str, ...]
    labels: tuple[str | None, ...]
    created_at: datetime
    expires_at: datetime
    decision: str | None
    decided_by: ActorOut | None
    decided_at: datetime | None
    result: dict[str, Any] | None
    error: str | None
    token: str | None = None


class ConfirmationsOut(_Wire):
    conversation_id: str
    confirmations: tuple[ConfirmationOut, ...]


class InboxOut(_Wire):
    """The confirmations the caller may see, across its conversations, newest first:
    the open ones with their tokens, or the closed ones with who decided them and how."""

    confirmations: tuple[ConfirmationOut, ...]


class DecisionOut(_AlwaysSent):
    """A decision and what the resumed conversation said.

    ``decision`` is the one recorded: ``skip``, or the name of the approved option
    (``shown`` for ``SHOWN``). ``status`` and ``active_flow`` are the conversation's
    after the decision; ``null`` for ``SHOWN``, which resumes nothing.
    """

    conversation_id: str
    decision: str
    status: _StatusText | None
    active_flow: str | None = None
    replies: tuple[ReplyOut, ...] = ()
    pending: tuple[PendingOut, ...] = ()
    confirmation: Annotated[ConfirmationOut | None, _NeverNull()] = None

    @property
    def texts(self) -> list[str]:
        """The replies' texts, in order."""
        return [reply.text for reply in self.replies]


class EventOut(_Wire):
    """Something that happened in a subscribed conversation (a WebSocket ``event``).

    Attributes:
        type: ``turn``, ``awaiting_confirmation``, ``confirmation_decided``,
            ``action_executed``, ``confirmation_expired``, ... as the server names it
            (the payload's ``event``).
        conversation_id: The conversation, when the event concerns one.
        data: The event's details, as sent.
        at: When it happened, if the server said.
    """

    # The payload's own ``type`` is "event": the event's type arrives as ``event``.
    model_config = ConfigDict(populate_by_name=True)

    type: str = Field(validation_alias="event", serialization_alias="event")
    conversation_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    at: _Timestamp = None


class ActionsOut(_Wire):
    """The actions the bot can call: handlers of the server's process (``global``,
    ``local``) and those action workers announced (``remote``: name → worker ids)."""

    model_config = ConfigDict(populate_by_name=True)

    global_: tuple[str, ...] = Field(alias="global")
    local: tuple[str, ...]
    remote: dict[str, tuple[str, ...]] = Field(default_factory=dict)


# -- the action-worker protocol (docs/workers.md) ------------------------------------------


class ActionOffer(BaseModel):
    """One action a worker announces: how the server may call it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    mode: Literal["none", "slots", "params"] = "params"
    params: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(
        default=(), max_length=200
    )
    required: tuple[str, ...] = Field(default=(), max_length=200)
    takes_ctx: bool = False
    idempotent: bool = False
    reconcile: bool = False
    description: str | None = Field(default=None, max_length=2000)


class Announcement(BaseModel):
    """``announce``'s arguments: who the worker is and what it offers."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    worker: str = Field(min_length=1, max_length=128)
    concurrency: int | None = Field(default=None, ge=1)
    actions: tuple[ActionOffer, ...] = Field(max_length=10_000)


class CallContext(BaseModel):
    """The ``ActionContext`` fields a worker's handler receives."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    conversation_id: str = ""
    user_id: str | None = None
    flow: str | None = None
    step: str | None = None
    idempotency_key: str | None = Field(default=None, min_length=1)
    """``None``: a call no retry will repeat (the worker neither remembers nor replays it)."""
    confirmation_token: str | None = None
    extras: dict[str, Any] = Field(default_factory=dict)


class RunAction(BaseModel):
    """``run_action``'s arguments: one call of one action (or of its reconcile check)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: str = Field(min_length=1, max_length=200)
    reconcile: bool = False
    slots: dict[str, Any] = Field(default_factory=dict)
    context: CallContext = Field(default_factory=CallContext)
    deadline: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class HealthOut(_Wire):
    status: str


class ErrorOut(_Wire):
    """One reason a request was invalid: where (``loc``) and what (``msg``, ``type``)."""

    model_config = ConfigDict(extra="forbid")

    loc: tuple[str | int, ...]
    msg: str
    type: str


# The members after ``detail`` come only with the problems that carry them; absent,
# not null, otherwise (SkipJsonSchema keeps ``null`` out of the documented types).
_Absent = SkipJsonSchema[None]


class ProblemOut(_Wire):
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
    confirmation_status: _ConfirmationStatusText | _Absent = Field(
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
    options: tuple[str, ...] | _Absent = Field(
        default=None, description="invalid-decision: the options offered."
    )
    errors: tuple[ErrorOut, ...] | _Absent = Field(
        default=None, description="invalid-request: every invalid part of the request."
    )
    limit: int | _Absent = Field(
        default=None, description="body-too-large: the largest body accepted, in bytes."
    )
