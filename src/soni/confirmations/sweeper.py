"""A background task that records expiries and purges old confirmations."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from soni.errors import StoreClosed

if TYPE_CHECKING:
    from soni.confirmations.registry import ConfirmationRegistry

__all__ = ("ExpirySweeper",)

logger = logging.getLogger("soni.confirmations")


class ExpirySweeper:
    """Calls ``cleanup_expired`` every ``interval`` seconds and ``purge`` now and then.

    ``purge`` runs on the first round and every ``purge_every`` rounds after it
    (720 rounds of 5 s: hourly); ``purge_every=0`` never purges. ``maintain``, if
    given, is called with the time (``time.time()``) when ``purge`` is: the rest of
    the storage's retention work (the action journal's old entries). A purge runs
    beside the expiry rounds, in a task of its own, one at a time: a large backlog
    takes seconds to purge gently, and expiries stay visible meanwhile.

    Expiry does not depend on it — a decision past ``expires_at`` is refused either
    way — but it makes expiries visible (events, listings) close to when they happen.

    Example:
        >>> async with ExpirySweeper(registry, interval=5):   # doctest: +SKIP
        ...     await serve_forever()
    """

    def __init__(
        self,
        registry: ConfirmationRegistry,
        *,
        interval: float = 5.0,
        purge_every: int = 720,
        maintain: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if purge_every < 0:
            raise ValueError(f"purge_every must be 0 (never) or positive, got {purge_every}")
        self.registry = registry
        self.interval = interval
        self.purge_every = purge_every
        self.maintain = maintain
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start sweeping on the running event loop (no-op if already running)."""
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="soni-confirmation-sweeper"
            )

    async def stop(self) -> None:
        """Stop sweeping and wait for the current sweep to end."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            # The sweeper's own cancellation is expected; ours must go on up.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def sweep(self, *, purge: bool = False) -> tuple[int, int]:
        """One sweep now. Returns (newly expired, purged)."""
        expired = await self.registry.cleanup_expired()
        purged = 0
        if purge:
            purged = await self.registry.purge()
            if self.maintain is not None:
                await self.maintain(time.time())
        return expired, purged

    async def _run(self) -> None:
        rounds = 0
        # The purges run beside the expiry rounds, not in them: a purge of a large
        # backlog paces itself over seconds (see the journals), and expiries stay
        # visible meanwhile. One purge at a time: a round that finds the last one
        # still going skips its turn.
        retention: asyncio.Task[None] | None = None
        try:
            while True:
                try:
                    await self.registry.cleanup_expired()
                except StoreClosed:
                    logger.info("confirmation store closed; the sweeper stops")
                    return
                except Exception:
                    # A locked or briefly unavailable store must not end the sweeping.
                    logger.exception("confirmation sweep failed; retrying in %ss", self.interval)
                due = self.purge_every > 0 and rounds % self.purge_every == 0
                if due and (retention is None or retention.done()):
                    retention = asyncio.create_task(self._retain(), name="soni-retention")
                rounds += 1
                await asyncio.sleep(self.interval)
        finally:
            if retention is not None and not retention.done():
                retention.cancel()
                await asyncio.wait([retention])

    async def _retain(self) -> None:
        """Purge what is past its retention: closed confirmations, then the storage's rest."""
        try:
            await self.registry.purge()
            if self.maintain is not None:
                await self.maintain(time.time())
        except StoreClosed:
            logger.info("store closed during a purge; it stops")
        except Exception:
            logger.exception("purging old records failed; trying again at the next purge")

    async def __aenter__(self) -> ExpirySweeper:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
