"""The idempotency keys a worker has seen, with what their commands answered.

A command carries its call's idempotency key (docs/workers.md#guarantees). When
the same key comes again — the server retrying after a lost connection, or two
copies in flight at once — the worker must not run the handler twice: it answers
with the outcome recorded for the key, or waits for the run still under way.

The map is bounded twice: an outcome is kept ``ttl`` seconds after it was
recorded, and at most ``limit`` outcomes are kept (the oldest go first). Runs
still under way are never dropped. Loop-confined: claims and settlements happen
on the worker's event loop, so ``claim`` is atomic without a lock.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ("Outcome", "RecentKeys")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command answered: its response payload (without ``replayed``).

    Attributes:
        payload: ``{"type": "response", "ok": ..., ...}``.
        started: Whether the handler was called: only such outcomes are recorded.
    """

    payload: dict[str, Any]
    started: bool = True


class RecentKeys:
    """Idempotency key → the outcome of its command (or the future of a run under way)."""

    def __init__(
        self, *, ttl: float, limit: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Create an empty map.

        Args:
            ttl: Seconds an outcome is remembered after it was recorded.
            limit: How many outcomes are remembered at most.
            clock: Seconds (``time.monotonic``); tests pass a fake one.
        """
        if ttl < 0 or limit < 0:
            raise ValueError(f"ttl and limit must be positive, got {ttl!r} and {limit!r}")
        self.ttl = ttl
        self.limit = limit
        self._clock = clock
        self._running: dict[str, asyncio.Future[Outcome]] = {}
        self._done: OrderedDict[str, tuple[Outcome, float]] = OrderedDict()

    def __len__(self) -> int:
        """Outcomes remembered plus runs under way."""
        self._expire()
        return len(self._done) + len(self._running)

    def __contains__(self, key: object) -> bool:
        self._expire()
        return key in self._running or key in self._done

    def claim(self, key: str) -> tuple[asyncio.Future[Outcome], bool]:
        """The future of ``key``'s outcome, and whether the caller must run the command.

        ``True``: the key is new (or forgotten); the caller runs the command and
        calls ``settle`` (or ``forget``). ``False``: another command has it; await
        the future (already done when the outcome is recorded).
        """
        self._expire()
        running = self._running.get(key)
        if running is not None:
            return running, False
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        done = self._done.get(key)
        if done is not None:
            future.set_result(done[0])
            return future, False
        self._running[key] = future
        return future, True

    def settle(self, key: str, outcome: Outcome) -> None:
        """Record ``key``'s outcome and hand it to the commands waiting for it.

        An outcome whose handler never started is handed over but not recorded: the
        command may be sent again, and then it runs.
        """
        future = self._running.pop(key, None)
        if future is not None and not future.done():
            future.set_result(outcome)
        if not outcome.started:
            return
        self._done[key] = (outcome, self._clock())
        self._done.move_to_end(key)
        while len(self._done) > self.limit:
            self._done.popitem(last=False)

    def forget(self, key: str, outcome: Outcome) -> None:
        """Hand ``outcome`` to the waiters, but keep no record (the command never started)."""
        self.settle(key, Outcome(outcome.payload, started=False))

    def _expire(self) -> None:
        horizon = self._clock() - self.ttl
        while self._done:
            key, (_, recorded) = next(iter(self._done.items()))
            if recorded > horizon:
                break
            del self._done[key]
