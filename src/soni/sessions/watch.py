"""Confirmation transitions as session events."""

from __future__ import annotations

from typing import Any

from soni.confirmations import ConfirmationEvent, PendingConfirmation, Status
from soni.sessions.events import EventType, SessionEvent

__all__ = ("session_event_for",)


def session_event_for(event: ConfirmationEvent) -> SessionEvent | None:
    """The session event a confirmation transition becomes, or ``None`` if none.

    Registered → ``confirmation_requested``; approved (an approval or a chosen
    option) or skipped → ``confirmation_decided``; executed or failed →
    ``action_executed``; interrupted (its outcome lost in a crash) →
    ``action_interrupted``; expired → ``confirmation_expired``. Being shown,
    the start of execution, superseding and cancelling are not announced.
    Tokens never appear in events: they are capabilities.
    """
    record = event.confirmation
    data: dict[str, Any] = {"confirmation_id": event.confirmation_id}
    to_status = event.to_status
    kind: EventType
    if event.from_status is None:
        kind = "confirmation_requested"
        if record is not None:
            data.update(
                prompt=record.prompt,
                options=list(record.options),
                labels=[call.label for call in record.actions],
                expires_at=record.expires_at.isoformat(),
            )
        data["user_id"] = event.user_id
    elif to_status in (Status.APPROVED, Status.SKIPPED):
        kind = "confirmation_decided"
        decision: str | None = "skip" if to_status is Status.SKIPPED else None
        if record is not None:
            decision = record.decision
        data.update(
            decision=decision,
            status=to_status.value,
            actor={"user_id": event.actor.user_id, "channel": event.actor.channel},
        )
    elif to_status in (Status.EXECUTED, Status.FAILED):
        kind = "action_executed"
        data.update(
            action=_ran(record),
            ok=to_status is Status.EXECUTED,
            error=record.error if record is not None else None,
        )
    elif to_status is Status.INTERRUPTED:
        kind = "action_interrupted"
        data["action"] = _ran(record)
    elif to_status is Status.EXPIRED:
        kind = "confirmation_expired"
    else:
        return None
    return SessionEvent(kind, event.conversation_id, data, event.at)


def _ran(record: PendingConfirmation | None) -> str | None:
    """The action the approved offer runs (one of several over a list is named by its
    option; the event names the action)."""
    call = record.chosen_action if record is not None else None
    return call.name if call is not None else None
