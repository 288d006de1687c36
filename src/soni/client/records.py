"""What the client hands back: frozen records built from the server's answers.

The server's JSON is read once, here, and checked as it is read: a missing or
mistyped field raises ``ProtocolError`` naming it, instead of a ``KeyError`` in
the caller's code later on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from soni.errors import ProtocolError

__all__ = ("BotMessage", "Decision", "Event", "Pending", "Reply")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BotMessage:
    """One message from the bot."""

    text: str
    kind: str = "text"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Pending:
    """A confirmation the conversation waits for.

    Attributes:
        id: The confirmation's id.
        token: The token to decide it with (``client.decide(token, ...)``); ``None``
            when the server no longer knows it (the user can still answer in chat).
        prompt: The question shown to the user.
        options: What can be answered besides ``"skip"`` (``"approve"`` for a single
            action, the option names for a choice).
        labels: A display label per option, ``None`` where there is none.
        expires_at: When the confirmation expires, if the server said.
    """

    id: str
    token: str | None
    prompt: str
    options: tuple[str, ...] = ()
    labels: tuple[str | None, ...] = ()
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to a chat message: the bot's replies and what it waits for now."""

    conversation_id: str
    replies: tuple[BotMessage, ...] = ()
    pending: tuple[Pending, ...] = ()
    status: str = "active"
    active_flow: str | None = None

    @property
    def texts(self) -> list[str]:
        """The replies' texts, in order."""
        return [reply.text for reply in self.replies]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a decision: what was recorded and the resumed conversation's replies."""

    decision: str
    status: str
    conversation_id: str
    replies: tuple[BotMessage, ...] = ()
    pending: tuple[Pending, ...] = ()

    @property
    def texts(self) -> list[str]:
        """The replies' texts, in order."""
        return [reply.text for reply in self.replies]


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in a subscribed conversation.

    Attributes:
        type: ``turn``, ``awaiting_confirmation``, ``confirmation_decided``,
            ``action_executed``, ``confirmation_expired``, ... as the server names it.
        conversation_id: The conversation, when the event concerns one.
        data: The event's details, as sent.
        at: When it happened, if the server said.
    """

    type: str
    conversation_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


def reply_from_wire(result: Mapping[str, Any]) -> Reply:
    return Reply(
        conversation_id=_get(result, "conversation_id", str, "message result"),
        replies=_messages(result, "message result"),
        pending=_pending(result, "message result"),
        status=_get(result, "status", str, "message result", default="active"),
        active_flow=_optional(result, "active_flow", str, "message result"),
    )


def decision_from_wire(result: Mapping[str, Any]) -> Decision:
    return Decision(
        decision=_get(result, "decision", str, "decide result"),
        status=_get(result, "status", str, "decide result"),
        conversation_id=_get(result, "conversation_id", str, "decide result"),
        replies=_messages(result, "decide result"),
        pending=_pending(result, "decide result"),
    )


def event_from_wire(payload: Mapping[str, Any]) -> Event:
    return Event(
        type=_get(payload, "event", str, "event"),
        conversation_id=_optional(payload, "conversation_id", str, "event"),
        data=dict(_get(payload, "data", dict, "event", default={})),
        at=_time(payload.get("at")),
    )


def _messages(result: Mapping[str, Any], where: str) -> tuple[BotMessage, ...]:
    items = _get(result, "replies", list, where, default=[])
    messages = []
    for index, item in enumerate(items):
        at = f"{where}.replies[{index}]"
        if not isinstance(item, Mapping):
            raise ProtocolError(f"{at} is not an object")
        messages.append(
            BotMessage(
                text=_get(item, "text", str, at),
                kind=_get(item, "kind", str, at, default="text"),
            )
        )
    return tuple(messages)


def _pending(result: Mapping[str, Any], where: str) -> tuple[Pending, ...]:
    items = _get(result, "pending", list, where, default=[])
    pending = []
    for index, item in enumerate(items):
        at = f"{where}.pending[{index}]"
        if not isinstance(item, Mapping):
            raise ProtocolError(f"{at} is not an object")
        pending.append(
            Pending(
                id=_get(item, "id", str, at),
                token=_optional(item, "token", str, at),
                prompt=_get(item, "prompt", str, at, default=""),
                options=tuple(str(o) for o in _get(item, "options", list, at, default=[])),
                labels=tuple(
                    None if label is None else str(label)
                    for label in _get(item, "labels", list, at, default=[])
                ),
                expires_at=_time(item.get("expires_at")),
            )
        )
    return tuple(pending)


_MISSING: Any = object()


def _get(obj: Mapping[str, Any], key: str, kind: type[T], where: str, default: T = _MISSING) -> T:
    value = obj.get(key, _MISSING)
    if value is _MISSING or (value is None and default is not _MISSING):
        if default is _MISSING:
            raise ProtocolError(f"{where} has no {key!r}")
        return default
    if not isinstance(value, kind):
        raise ProtocolError(f"{where}.{key} should be {kind.__name__}, got {type(value).__name__}")
    return value


def _optional(obj: Mapping[str, Any], key: str, kind: type[T], where: str) -> T | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, kind):
        raise ProtocolError(
            f"{where}.{key} should be {kind.__name__} or null, got {type(value).__name__}"
        )
    return value


def _time(value: object) -> datetime | None:
    # A timestamp is informative only; one this client cannot read is not worth
    # failing a whole answer over.
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
