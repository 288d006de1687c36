"""Runtime values (turn results, records, saved states) as the API's models."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from soni.confirmations import ConfirmationRegistry, PendingConfirmation
from soni.engine import PendingView, ReplyView
from soni.wire import ActorOut, ConfirmationOut, PendingOut, ReplyOut, TurnStatus

__all__ = (
    "active_flow",
    "confirmation_out",
    "pending_from_record",
    "pending_from_view",
    "replies_out",
    "saved_status",
)


def replies_out(replies: Iterable[ReplyView | Mapping[str, Any]]) -> tuple[ReplyOut, ...]:
    out: list[ReplyOut] = []
    for reply in replies:
        if isinstance(reply, ReplyView):
            out.append(ReplyOut(text=reply.text, kind=reply.kind))
        else:
            out.append(ReplyOut(text=str(reply.get("text", "")), kind=reply.get("kind", "text")))
    return tuple(out)


def pending_from_view(view: PendingView) -> PendingOut:
    return PendingOut(
        id=view.confirmation_id,
        token=view.token,
        prompt=view.prompt,
        options=view.options,
        labels=view.labels,
        expires_at=view.expires_at,
    )


def pending_from_record(
    record: PendingConfirmation, confirmations: ConfirmationRegistry
) -> PendingOut:
    return PendingOut(
        id=record.id,
        token=confirmations.token_of(record),
        prompt=record.prompt,
        options=tuple(record.options),
        labels=tuple(call.label for call in record.actions),
        expires_at=record.expires_at,
    )


def confirmation_out(
    record: PendingConfirmation, token: str | None = None, *, conversation_id: str | None = None
) -> ConfirmationOut:
    """The record as answered; ``conversation_id`` is the id its caller knows it by
    (the record's own by default)."""
    actor = record.decided_by
    return ConfirmationOut(
        id=record.id,
        conversation_id=record.conversation_id if conversation_id is None else conversation_id,
        user_id=record.user_id,
        status=record.status,
        kind=record.kind,
        prompt=record.prompt,
        options=tuple(record.options),
        labels=tuple(call.label for call in record.actions),
        created_at=record.created_at,
        expires_at=record.expires_at,
        decision=record.decision,
        decided_by=ActorOut(user_id=actor.user_id, channel=actor.channel) if actor else None,
        decided_at=record.decided_at,
        result=dict(record.result) if record.result is not None else None,
        error=record.error,
        token=token,
    )


def active_flow(state: Mapping[str, Any]) -> str | None:
    """The flow on top of a saved state's stack."""
    stack = state.get("stack") or []
    return str(stack[-1]["flow"]) if stack else None


def saved_status(state: Mapping[str, Any], pending: bool) -> TurnStatus:
    """A saved conversation's status, as a turn that ended there would report it."""
    if not state.get("stack"):
        return "ended"
    waiting = state.get("waiting") or {}
    if waiting.get("kind") == "confirmation" and pending:
        return "awaiting_confirmation"
    if waiting.get("kind") == "slot":
        return "awaiting_input"
    return "active"
