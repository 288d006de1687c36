"""Capacity and idle clean-up: which conversations leave memory, and when."""

from __future__ import annotations

import asyncio

from soni.sessions import SessionEvent, Subscription

from .conftest import TIMEOUT, RegistryFactory, kinds, take, turn


async def test_beyond_max_sessions_the_least_recently_active_leave(
    make_sessions: RegistryFactory,
) -> None:
    sessions = await make_sessions(max_sessions=3)
    async with sessions.subscribe() as subscription:
        for conversation_id in ("c1", "c2", "c3"):
            await turn(sessions, conversation_id)
        await turn(sessions, "c1")  # c2 is now the least recently active
        await turn(sessions, "c4")
        await turn(sessions, "c5")
        events = await take(subscription, 13)

    assert [i.conversation_id for i in await sessions.list()] == ["c5", "c4", "c1"]
    removals = [e for e in events if e.type == "session_removed"]
    assert kinds(removals) == [("session_removed", "c2"), ("session_removed", "c3")]
    assert all(e.data["reason"] == "evicted" for e in removals)
    # Room is made before the newcomer is announced.
    assert kinds(events[-6:]) == [
        ("session_removed", "c2"),
        ("session_started", "c4"),
        ("turn", "c4"),
        ("session_removed", "c3"),
        ("session_started", "c5"),
        ("turn", "c5"),
    ]


async def test_an_evicted_conversation_starts_again_on_its_next_turn(
    make_sessions: RegistryFactory,
) -> None:
    sessions = await make_sessions(max_sessions=1)
    await turn(sessions, "c1")
    await turn(sessions, "c2")
    assert await sessions.get("c1") is None
    async with sessions.subscribe("c1") as subscription:
        await turn(sessions, "c1")
        assert [e.type for e in await take(subscription, 2)] == ["session_started", "turn"]
    assert [i.conversation_id for i in await sessions.list()] == ["c1"]


class Clock:
    """Monotonic seconds that move only when the test moves them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def next_removal(subscription: Subscription) -> SessionEvent:
    """The next ``session_removed`` event, or fail after ``TIMEOUT`` seconds."""

    async def read() -> SessionEvent:
        async for event in subscription:
            if event.type == "session_removed":
                return event
        raise AssertionError("the subscription ended")

    return await asyncio.wait_for(read(), TIMEOUT)


async def test_idle_conversations_are_removed_by_the_clean_up(
    make_sessions: RegistryFactory,
) -> None:
    # Clean-ups every 10 ms of real time; idleness on a clock the test moves.
    clock = Clock()
    sessions = await make_sessions(idle_ttl=300, clean_interval=0.01, clock=clock)
    async with sessions.subscribe() as subscription:
        await turn(sessions, "early")  # at 0
        clock.now = 100
        await turn(sessions, "idle")
        clock.now = 250
        await turn(sessions, "live")
        # "early" has been idle past its 300 s, "idle" for 250 s only: a clean-up
        # takes the first and leaves the second.
        clock.now = 350
        early = await next_removal(subscription)
        assert [i.conversation_id for i in await sessions.list()] == ["live", "idle"]
        clock.now = 450
        event = await next_removal(subscription)

    assert early.conversation_id == "early"
    assert event.conversation_id == "idle"
    assert event.data["reason"] == "idle"
    assert [i.conversation_id for i in await sessions.list()] == ["live"]


async def test_everything_idle_goes_in_one_clean_up(make_sessions: RegistryFactory) -> None:
    sessions = await make_sessions(idle_ttl=0.05, clean_interval=0.05)
    async with sessions.subscribe() as subscription:
        for n in range(5):
            await turn(sessions, f"c{n}")
        events = await take(subscription, 15)

    removals = [e for e in events if e.type == "session_removed"]
    assert sorted(e.conversation_id or "" for e in removals) == [f"c{n}" for n in range(5)]
    assert await sessions.list() == []
