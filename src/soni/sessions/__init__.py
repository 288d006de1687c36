"""The session registry: live conversations, idle clean-up, capacity, and their events."""

from soni.sessions.errors import SessionCommandError
from soni.sessions.events import EVENT_TYPES, EventType, SessionEvent, SessionInfo
from soni.sessions.registry import SessionRegistry
from soni.sessions.subscription import Subscription
from soni.sessions.watch import session_event_for

__all__ = (
    "EVENT_TYPES",
    "EventType",
    "SessionCommandError",
    "SessionEvent",
    "SessionInfo",
    "SessionRegistry",
    "Subscription",
    "session_event_for",
)
