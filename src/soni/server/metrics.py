"""Prometheus metrics, in a registry of the app's own.

A per-app ``CollectorRegistry`` (not prometheus-client's global one) lets several
apps live in one process — tests, or two bots — without their metrics clashing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from soni.confirmations import ConfirmationEvent
from soni.confirmations.records import OPEN
from soni.engine import ActionRan, BotEvent, ConfirmationChanged

if TYPE_CHECKING:
    from soni.engine import Bot

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

    def observe(self, event: BotEvent) -> None:
        """Count what a bot tells (a ``bot.events`` handler).

        Counters count this process's work only: on a shared database every worker
        hears the others' events too, and Prometheus sums the workers' counters. The
        gauge of pending confirmations follows every worker's transitions: it is the
        database's count, the same on each worker.
        """
        if isinstance(event, ConfirmationChanged):
            self._confirmation(event.confirmation, counted=not event.remote)
        elif isinstance(event, ActionRan) and not event.remote:
            if event.outcome == "failed":
                self.action_failures.inc()
            elif event.outcome == "unknown":
                self.unknown_outcomes.inc()

    def _confirmation(self, event: ConfirmationEvent, *, counted: bool) -> None:
        was_open = event.from_status in OPEN
        is_open = event.to_status in OPEN
        if event.from_status is None and is_open:
            self.pending.inc()
        elif was_open and not is_open:
            self.pending.dec()
            if counted:
                self.decisions.labels(event.to_status.value).inc()

    async def attach(self, bot: Bot) -> Callable[[], None]:
        """Follow ``bot``'s events; returns a function that stops.

        Raises:
            Whatever reading the open confirmations raises.
        """
        open_now = await bot.confirmations.list(status=[s.value for s in OPEN])
        self.pending.set(len(open_now))
        # Those found when the bot started, before anyone could observe them.
        self.unknown_outcomes.inc(len(bot.interrupted_at_start))
        return bot.events.subscribe(self.observe)
