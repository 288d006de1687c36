"""Fixtures for the session registry tests: a running registry and bounded reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from soni.sessions import SessionEvent, SessionRegistry, Subscription

# Every wait in these tests is bounded by this; the events arrive in microseconds.
TIMEOUT = 5.0

RegistryFactory = Callable[..., Awaitable[SessionRegistry]]


@pytest.fixture
async def make_sessions() -> AsyncIterator[RegistryFactory]:
    """Start registries with the given settings; all are stopped after the test."""
    started: list[SessionRegistry] = []

    async def make(**settings: Any) -> SessionRegistry:
        registry = SessionRegistry(**settings)
        await registry.start()
        started.append(registry)
        return registry

    yield make
    for registry in started:
        await asyncio.wait_for(registry.stop(), TIMEOUT)


@pytest.fixture
async def sessions(make_sessions: RegistryFactory) -> SessionRegistry:
    return await make_sessions()


async def take(subscription: Subscription, count: int) -> list[SessionEvent]:
    """The next ``count`` events, or fail after ``TIMEOUT`` seconds."""

    async def read() -> list[SessionEvent]:
        events: list[SessionEvent] = []
        if count == 0:
            return events
        async for event in subscription:
            events.append(event)
            if len(events) == count:
                break
        return events

    return await asyncio.wait_for(read(), TIMEOUT)


async def drain(subscription: Subscription) -> list[SessionEvent]:
    """Every event until the iteration ends, or fail after ``TIMEOUT`` seconds."""

    async def read() -> list[SessionEvent]:
        return [event async for event in subscription]

    return await asyncio.wait_for(read(), TIMEOUT)


async def turn(
    registry: SessionRegistry,
    conversation_id: str,
    *,
    status: str = "awaiting_input",
    pending: int = 0,
    active_flow: str | None = "transfer",
    user_id: str | None = "alice",
    replies: list[dict[str, Any]] | None = None,
) -> None:
    await registry.record_turn(
        conversation_id,
        status=status,
        pending=pending,
        active_flow=active_flow,
        user_id=user_id,
        replies=replies,
    )


def kinds(events: list[SessionEvent]) -> list[tuple[str, str | None]]:
    return [(event.type, event.conversation_id) for event in events]
