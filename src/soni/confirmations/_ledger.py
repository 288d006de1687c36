"""The registry's bookkeeping around its store: every write and what must follow it.

A committed change wakes the waiters of a confirmation that closed and tells the
observers. The ``Ledger`` does these as one unit with the write, and reads records
back, so the registry's operations only decide what to write.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from soni.confirmations._support import Ref, uncancellable
from soni.confirmations.errors import UnknownConfirmation
from soni.confirmations.events import ConfirmationEvent, Observers, Waiters
from soni.confirmations.lifecycle import EXPIRE, Transition
from soni.confirmations.records import SYSTEM, Actor, PendingConfirmation, Status
from soni.confirmations.stores.base import Change, ConfirmationStore
from soni.confirmations.tokens import hash_token, is_well_formed

if TYPE_CHECKING:
    from soni.confirmations.registry import ConfirmationRegistry

__all__ = ("Ledger",)

logger = logging.getLogger("soni.confirmations")


class Ledger:
    """Reads and writes a registry's confirmations, and tells whoever must know."""

    def __init__(self, registry: ConfirmationRegistry) -> None:
        self._registry = registry
        self.waiters = Waiters()
        self.observers = Observers()

    @property
    def store(self) -> ConfirmationStore:
        return self._registry.store

    # -- reading ------------------------------------------------------------------

    async def find(self, token: str) -> PendingConfirmation:
        if not is_well_formed(token):
            raise UnknownConfirmation()
        return self.found(await self.store.find_by_token_hash(hash_token(token)))

    async def resolve(self, ref: Ref) -> PendingConfirmation:
        if isinstance(ref, PendingConfirmation):
            return self.found(await self.store.get(ref.id))
        return await self.find(ref)

    def found(self, record: PendingConfirmation | None) -> PendingConfirmation:
        if record is None:
            raise UnknownConfirmation()
        return record

    async def held(self, ref: Ref, next_step: Transition) -> PendingConfirmation:
        """The caller's own copy when it shows a status ``next_step`` starts from.

        Saves a read on the common path: the compare-and-set that follows checks
        the status in the store anyway, and every path that finds it changed
        re-reads the record.
        """
        if isinstance(ref, PendingConfirmation) and ref.status in next_step.sources:
            return ref
        return await self.resolve(ref)

    # -- writing ------------------------------------------------------------------

    async def insert(self, record: PendingConfirmation) -> bool:
        """Insert and announce, as one unit: a stored record is always announced."""
        if not await self.store.insert(record):
            return False
        event = ConfirmationEvent.of(record, None, SYSTEM, record.created_at)
        await self.observers.notify(event)
        return True

    async def transition(
        self,
        confirmation_id: str,
        change: Change,
        *,
        unexpired: bool = False,
        expired: bool = False,
        claimed_by: str | None = None,
    ) -> PendingConfirmation | None:
        """A compare-and-set (from the statuses ``change``'s transition starts from)
        and everything that must follow it, as one unit.

        The caller may be cancelled while the store commits; the change then still
        lands (SQLite finishes it on its thread), so waking waiters and telling
        observers must happen regardless — or an approved-to-executing move would
        strand the action, unrun, in ``executing``.
        """

        async def commit() -> PendingConfirmation | None:
            done = await self.store.transition(
                confirmation_id,
                change,
                unexpired=unexpired,
                expired=expired,
                claimed_by=claimed_by,
            )
            if done is None:
                return None
            updated, previous = done
            await self._after(updated, previous, change)
            return updated

        return await uncancellable(commit())

    async def _after(
        self, record: PendingConfirmation, from_status: Status | None, change: Change
    ) -> None:
        if not record.is_open:
            self.waiters.wake(record.id, record)
        # One event per change: a chained approve-and-begin is two transitions.
        steps = change.chain()
        for step in steps:
            passed = record if step is steps[-1] else replace(record, status=step.status)
            await self.observers.notify(
                ConfirmationEvent.of(passed, from_status, step.actor, step.at)
            )
            from_status = step.status

    async def close(
        self,
        record: PendingConfirmation,
        closing: Transition,
        actor: Actor,
        now: datetime,
        *,
        expired: bool = False,
    ) -> PendingConfirmation | None:
        """Close an open record without a decision (expired, superseded, cancelled)."""
        updated = await self.transition(record.id, Change(closing, now, actor), expired=expired)
        if updated is not None:
            logger.info("confirmation %s %s", updated.id, closing.target.value)
        return updated

    async def expire(self, record: PendingConfirmation, now: datetime) -> PendingConfirmation:
        """Record the expiry of an open record past its time; return it as it now is."""
        closed = await self.close(record, EXPIRE, SYSTEM, now, expired=True)
        return closed if closed is not None else await self.resolve(record)

    async def expire_due(self, now: datetime, limit: int) -> int:
        """Record up to ``limit`` expiries in one transaction. Returns how many."""
        expired = await self.store.expire_due(now, SYSTEM, limit=limit)
        self.waiters.wake_all([gone.id for gone in expired])
        if self.observers:
            await self.observers.notify_all(
                ConfirmationEvent(
                    gone.id,
                    gone.conversation_id,
                    gone.user_id,
                    gone.from_status,
                    EXPIRE.target,
                    SYSTEM,
                    now,
                )
                for gone in expired
            )
        return len(expired)
