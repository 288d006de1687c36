"""Prometheus metrics, in a registry of the app's own.

A per-app ``CollectorRegistry`` (not prometheus-client's global one) lets several
apps live in one process — tests, or two bots — without their metrics clashing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from soni.confirmations import ConfirmationEvent, Status
from soni.confirmations.records import OPEN
from soni.engine.journal import ActionJournal, JournalEntry

if TYPE_CHECKING:
    from soni.engine.runtime import Bot

__all__ = ("CONTENT_TYPE", "Metrics")

logger = logging.getLogger("soni.server")

CONTENT_TYPE = CONTENT_TYPE_LATEST

# A chat turn takes milliseconds; an LLM-backed one or a slow action, seconds.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The server's counters, histogram and gauge."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "soni_turns",
            "Turns processed: chat messages and out-of-band decisions.",
            ["kind"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "soni_turn_seconds",
            "Time to process a turn, in seconds.",
            ["kind"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.pending = Gauge(
            "soni_pending_confirmations",
            "Confirmations waiting for a decision.",
            registry=self.registry,
        )
        self.decisions = Counter(
            "soni_decisions",
            "Confirmations closed, by outcome (approved, skipped, expired, superseded, cancelled).",
            ["outcome"],
            registry=self.registry,
        )
        self.action_failures = Counter(
            "soni_action_failures",
            "Actions whose handler raised or timed out.",
            registry=self.registry,
        )
        self.unknown_outcomes = Counter(
            "soni_action_outcomes_unknown",
            "Action runs interrupted before their outcome was recorded (told as unknown).",
            registry=self.registry,
        )
        self.errors = Counter(
            "soni_errors",
            "Requests and WebSocket instructions answered with an error, by status.",
            ["status"],
            registry=self.registry,
        )
        self._turn_children: dict[str, tuple[Any, Any]] = {}

    def render(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)

    def observe_turn(self, kind: str, seconds: float) -> None:
        children = self._turn_children.get(kind)
        if children is None:
            # Looked up once per kind: ``labels()`` takes a lock and hashes the
            # labels, on every turn otherwise.
            children = self._turn_children[kind] = (
                self.turns.labels(kind),
                self.turn_seconds.labels(kind),
            )
        count, seconds_of = children
        count.inc()
        seconds_of.observe(seconds)

    def observe_confirmation(self, event: ConfirmationEvent) -> None:
        """Count a confirmation transition (a confirmation observer)."""
        was_open = event.from_status in OPEN
        is_open = event.to_status in OPEN
        if event.from_status is None and is_open:
            self.pending.inc()
        elif was_open and not is_open:
            self.pending.dec()
            self.decisions.labels(event.to_status.value).inc()
        if event.to_status is Status.FAILED:
            self.action_failures.inc()
        elif event.to_status is Status.INTERRUPTED:
            self.unknown_outcomes.inc()

    async def attach(self, bot: Bot) -> Callable[[], None]:
        """Follow ``bot``'s confirmations and action runs; returns a function that stops.

        Raises:
            Whatever reading the open confirmations raises.
        """
        open_now = await bot.engine.confirmations.list(status=[s.value for s in OPEN])
        self.pending.set(len(open_now))
        unsubscribe = bot.engine.confirmations.subscribe(self.observe_confirmation)
        # Those found when the bot started, before anyone could observe them.
        self.unknown_outcomes.inc(len(bot.interrupted_at_start))
        # Actions that run without a confirmation are recorded only by the journal:
        # watch it for failures.
        journal = _CountingJournal(
            bot.engine.journal, self.action_failures.inc, self.unknown_outcomes.inc
        )
        bot.engine.journal = journal

        def detach() -> None:
            unsubscribe()
            if bot.engine.journal is journal:
                bot.engine.journal = journal.inner

        return detach


class _CountingJournal:
    """An ``ActionJournal`` that counts the failed runs and the unknown outcomes it records."""

    def __init__(
        self,
        inner: ActionJournal,
        on_failure: Callable[[], None],
        on_unknown: Callable[[], None],
    ) -> None:
        self.inner = inner
        self._on_failure = on_failure
        self._on_unknown = on_unknown

    async def claim(self, key: str, runner: str) -> JournalEntry | None:
        return await self.inner.claim(key, runner)

    async def reclaim(self, key: str, seen: JournalEntry, runner: str) -> bool:
        return await self.inner.reclaim(key, seen, runner)

    async def mark_unknown(self, key: str, seen: JournalEntry) -> None:
        await self.inner.mark_unknown(key, seen)
        self._on_unknown()

    async def finish(
        self, key: str, *, result: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        await self.inner.finish(key, result=result, error=error)
        if error is not None:
            self._on_failure()

    async def generation(self, conversation_id: str) -> int:
        return await self.inner.generation(conversation_id)

    async def next_generation(self, conversation_id: str) -> int:
        return await self.inner.next_generation(conversation_id)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Anything else a journal offers (purging, stats) is the inner one's.
        return getattr(self.inner, name)
