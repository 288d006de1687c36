"""What a turn gives back: its replies, the confirmations it waits for, its status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from soni.wire import TurnStatus

__all__ = ("PendingView", "ReplyView", "TurnResult")


@dataclass(frozen=True, slots=True)
class ReplyView:
    """One bot message."""

    text: str
    kind: str = "text"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class PendingView:
    """A confirmation the conversation waits for.

    ``token`` is ``None`` when this process no longer knows it (after a restart);
    the user can still answer in the chat, and the next turn issues a fresh one.
    """

    confirmation_id: str
    token: str | None
    prompt: str
    options: tuple[str, ...]
    labels: tuple[str | None, ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What a turn produced."""

    conversation_id: str
    replies: list[ReplyView] = field(default_factory=list)
    pending: list[PendingView] = field(default_factory=list)
    status: TurnStatus = "active"
    slots: dict[str, Any] = field(default_factory=dict)
    active_flow: str | None = None

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.replies]
