"""Transitions another process committed, told here as if they had happened here.

On a shared database (PostgreSQL) each process hears the others' transitions as
notices (ids and statuses only). Relaying one reads the record, wakes this
process's waiters if it closed and tells the observers — marked ``remote``, so an
observer that forwards events to the other processes (the bot's) does not send
them back.
"""

from __future__ import annotations

from datetime import datetime

from soni.confirmations._ledger import Ledger
from soni.confirmations.events import ConfirmationEvent
from soni.confirmations.records import SYSTEM, Actor, Status

__all__ = ("relay",)


async def relay(
    ledger: Ledger,
    confirmation_id: str,
    from_status: str | None,
    to_status: str,
    actor: Actor | None,
) -> ConfirmationEvent | None:
    """Tell this process's waiters and observers of another process's transition.

    Returns:
        The event observers received; ``None`` when the record is gone (purged).
    """
    record = await ledger.store.get(confirmation_id)
    if record is None:
        return None
    if not record.is_open:
        ledger.waiters.wake(record.id, record)
    event = ConfirmationEvent(
        record.id,
        record.conversation_id,
        record.user_id,
        None if from_status is None else Status(from_status),
        Status(to_status),
        actor or SYSTEM,
        record.updated_at or record.created_at or datetime.now().astimezone(),
        record,
        remote=True,
    )
    await ledger.observers.notify(event)
    return event
