"""What the HTTP API and the WebSocket protocol accept (pydantic at the edge).

What they answer is ``soni.wire``, which the client reads too.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from soni.confirmations.protocol import MESSAGE_PATTERN

__all__ = (
    "ChooseIn",
    "DecideArgs",
    "DecisionMessageIn",
    "MessageArgs",
    "MessageIn",
    "SubscribeArgs",
)

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
