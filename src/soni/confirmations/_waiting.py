"""Waiting for a decision: woken at once from this process, by polling from others."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from soni.confirmations._ledger import Ledger
from soni.confirmations._support import Ref
from soni.confirmations.errors import UnknownConfirmation
from soni.confirmations.records import PendingConfirmation

if TYPE_CHECKING:
    from soni.confirmations.registry import ConfirmationRegistry

__all__ = ("wait_until_closed",)


async def wait_until_closed(
    registry: ConfirmationRegistry, ledger: Ledger, token: Ref, timeout: float | None
) -> PendingConfirmation:
    """The registry's ``wait``."""
    record = await ledger.resolve(token)
    if not record.is_open:
        return record
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    # Listen before looking again, so a decision landing in between is not missed.
    with ledger.waiters.listen(record.id) as decided:
        while True:
            current = await registry.store.get(record.id)
            if current is None:
                raise UnknownConfirmation()
            if not current.is_open:
                return current
            now = registry.clock()
            until_expiry = (current.expires_at - now).total_seconds()
            if until_expiry <= 0:
                return await ledger.expire(current, now)
            pause = min(registry.poll_interval, until_expiry)
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"no decision on confirmation {record.id} yet")
                pause = min(pause, remaining)
            with contextlib.suppress(TimeoutError):
                closed = await asyncio.wait_for(asyncio.shield(decided), pause)
                if closed is not None:
                    return closed
                # Closed by a bulk expiry, which did not read the record back.
                return await ledger.resolve(record)
