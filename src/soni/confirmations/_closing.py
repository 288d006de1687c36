"""Ending confirmations without a decision: withdrawal, expiry, and purging at last."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from soni.confirmations._ledger import Ledger
from soni.confirmations._support import Ref, uncancellable
from soni.confirmations.lifecycle import CANCEL, Transition
from soni.confirmations.records import OPEN, SYSTEM, Actor, PendingConfirmation

if TYPE_CHECKING:
    from soni.confirmations.registry import ConfirmationRegistry

__all__ = ("Closing",)

logger = logging.getLogger("soni.confirmations")


class Closing:
    """The registry's ``cancel``, ``supersede``, ``cancel_conversation``,
    ``cleanup_expired`` and ``purge``.
    """

    def __init__(self, registry: ConfirmationRegistry, ledger: Ledger) -> None:
        self._registry = registry
        self._ledger = ledger

    async def withdraw(
        self, token: Ref, closing: Transition, actor: str | Actor | None
    ) -> PendingConfirmation:
        who = actor if isinstance(actor, Actor) else (SYSTEM if actor is None else Actor(actor))
        ledger = self._ledger
        record = await ledger.resolve(token)
        if record.is_open:
            now = self._registry.clock()
            if record.expires_at <= now:
                # Its time ran out before the withdrawal: that is an expiry.
                return await ledger.expire(record, now)
            closed = await ledger.close(record, closing, who, now)
            if closed is not None:
                return closed
            record = await ledger.resolve(record)
        return record

    async def cancel_conversation(self, conversation_id: str, actor: str | Actor | None) -> int:
        count = 0
        store = self._registry.store
        for record in await store.query(conversation_id=conversation_id, statuses=OPEN):
            if (await self.withdraw(record, CANCEL, actor)).status is CANCEL.target:
                count += 1
        return count

    async def cleanup_expired(self) -> int:
        registry = self._registry
        now = registry.clock()
        total = 0
        while True:
            count = await uncancellable(self._ledger.expire_due(now, registry.sweep_batch))
            total += count
            if count < registry.sweep_batch:
                break
        if total:
            logger.info("%d confirmation(s) expired", total)
        return total

    async def purge(self) -> int:
        registry = self._registry
        count = await registry.store.purge(registry.clock() - timedelta(seconds=registry.retention))
        if count:
            logger.info("purged %d closed confirmation(s) past retention", count)
        return count
