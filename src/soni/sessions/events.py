"""What the session registry broadcasts, and what it tells about one conversation."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from types import MappingProxyType
from typing import Any, Literal, get_args

__all__ = ("EVENT_TYPES", "EventType", "SessionEvent", "SessionInfo", "jsonable")

EventType = Literal[
    "session_started",
    "turn",
    "awaiting_confirmation",
    "confirmation_requested",
    "confirmation_decided",
    "action_executed",
    "action_interrupted",
    "action_progress",
    "confirmation_expired",
    "session_removed",
    "lagged",
]

EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType))
"""Every event type the registry knows."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """Something that happened to a conversation, as subscribers receive it.

    Attributes:
        type: What happened; see ``docs/sessions.md`` for each type's ``data``.
        conversation_id: The conversation, or ``None`` for an event about no
            particular one (``lagged`` on a subscription to all conversations).
        data: Details, by type. Read-only.
        at: When, timezone-aware UTC.
    """

    type: EventType
    conversation_id: str | None
    data: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        if not isinstance(self.data, MappingProxyType):
            object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def to_data(self) -> dict[str, Any]:
        """The event as a JSON-able dict: ``{type, conversation_id, data, at}``.

        Nested mappings become dicts, tuples become lists, datetimes ISO 8601 text.
        """
        return {
            "type": self.type,
            "conversation_id": self.conversation_id,
            "data": jsonable(self.data),
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live conversation as the registry knows it: a snapshot.

    Attributes:
        conversation_id: The conversation.
        user_id: Its user, once a turn named one.
        status: The status of its last turn (``active``, ``awaiting_input``,
            ``awaiting_confirmation``, ``ended``).
        active_flow: The flow its last turn ended in, if any.
        pending: How many confirmations it waited for after its last turn.
        started_at: When the registry first saw it (since it last entered memory).
        last_active: When its last turn was recorded.
    """

    conversation_id: str
    user_id: str | None
    status: str
    active_flow: str | None
    pending: int
    started_at: datetime
    last_active: datetime


def jsonable(value: Any) -> Any:
    """``value`` with mappings as dicts, sequences as lists and datetimes as ISO text."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    return value
