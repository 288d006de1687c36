"""Subscriptions: filtering by conversation, dropping slow readers, closing."""

from __future__ import annotations

import asyncio

import pytest

from soni.sessions import SessionCommandError, SessionEvent, SessionRegistry

from .conftest import TIMEOUT, RegistryFactory, drain, kinds, take, turn


async def test_a_subscription_to_one_conversation_sees_only_its_events(
    sessions: SessionRegistry,
) -> None:
    async with (
        sessions.subscribe("c1") as one,
        sessions.subscribe("c2") as two,
        sessions.subscribe() as everything,
    ):
        assert one.conversation_id == "c1"
        assert everything.conversation_id is None
        await turn(sessions, "c1")
        await turn(sessions, "c2")
        await sessions.publish(SessionEvent("confirmation_expired", "c1", {}))
        await sessions.publish(SessionEvent("confirmation_expired", None, {}))
        await turn(sessions, "c2", status="awaiting_confirmation", pending=1)

        seen_one = await take(one, 3)
        seen_two = await take(two, 4)
        seen_all = await take(everything, 8)

    assert kinds(seen_one) == [
        ("session_started", "c1"),
        ("turn", "c1"),
        ("confirmation_expired", "c1"),
    ]
    assert kinds(seen_two) == [
        ("session_started", "c2"),
        ("turn", "c2"),
        ("turn", "c2"),
        ("awaiting_confirmation", "c2"),
    ]
    assert kinds(seen_all) == [
        ("session_started", "c1"),
        ("turn", "c1"),
        ("session_started", "c2"),
        ("turn", "c2"),
        ("confirmation_expired", "c1"),
        ("confirmation_expired", None),  # an event of no conversation: only for "all"
        ("turn", "c2"),
        ("awaiting_confirmation", "c2"),
    ]


async def test_a_subscriber_that_never_reads_is_dropped_while_a_fast_one_gets_everything(
    make_sessions: RegistryFactory,
) -> None:
    queue_size, turns = 16, 2000
    sessions = await make_sessions(queue_size=queue_size)
    async with (
        sessions.subscribe() as slow,
        sessions.subscribe("c1") as slow_one,
        sessions.subscribe("c1") as fast,
    ):
        fast_reader = asyncio.create_task(take(fast, turns + 1))

        async def produce() -> None:
            for n in range(turns):
                await turn(sessions, "c1", pending=n)

        # The producer is never held up by the readers that stopped reading.
        await asyncio.wait_for(produce(), TIMEOUT)
        received = await fast_reader
        dropped = await drain(slow)
        dropped_one = await drain(slow_one)

    assert kinds(received) == [("session_started", "c1")] + [("turn", "c1")] * turns
    assert [event.data["pending"] for event in received[1:]] == list(range(turns))

    for events, followed in ((dropped, None), (dropped_one, "c1")):
        *kept, notice = events
        assert kept == received[:queue_size]
        assert notice.type == "lagged"
        assert notice.conversation_id == followed
        assert notice.data == {"queue_size": queue_size}


async def test_a_dropped_subscriber_does_not_come_back(make_sessions: RegistryFactory) -> None:
    sessions = await make_sessions(queue_size=2)
    async with sessions.subscribe() as slow:
        for _ in range(3):
            await turn(sessions, "c1")
        assert [e.type for e in await drain(slow)] == ["session_started", "turn", "lagged"]
        await turn(sessions, "c1")
        assert await drain(slow) == []  # still ended; nothing new was queued


async def test_a_subscriber_that_catches_up_in_time_is_kept(
    make_sessions: RegistryFactory,
) -> None:
    sessions = await make_sessions(queue_size=4)
    async with sessions.subscribe("c1") as subscription:
        for _ in range(10):
            await turn(sessions, "c1")
            await take(subscription, 1)
        await turn(sessions, "c1")
        assert [e.type for e in await take(subscription, 2)] == ["turn", "turn"]


async def test_closing_a_subscription_ends_its_iteration_and_detaches_it(
    sessions: SessionRegistry,
) -> None:
    subscription = sessions.subscribe("c1")
    reader = asyncio.create_task(drain(subscription))
    await subscription.open()  # attached now, whether or not the reader has started
    await turn(sessions, "c1")
    await sessions.list()  # a round trip: the events are delivered
    subscription.close()
    assert kinds(await asyncio.wait_for(reader, TIMEOUT)) == [
        ("session_started", "c1"),
        ("turn", "c1"),
    ]
    await turn(sessions, "c1")
    assert await drain(subscription) == []
    await subscription.open()  # a closed subscription stays closed
    assert await drain(subscription) == []


async def test_a_subscription_opened_twice_is_attached_once(sessions: SessionRegistry) -> None:
    async with sessions.subscribe() as subscription:
        await subscription.open()
        await turn(sessions, "c1")
        await sessions.list()
        subscription.close()
        assert kinds(await drain(subscription)) == [("session_started", "c1"), ("turn", "c1")]


async def test_subscribing_to_an_empty_conversation_id_is_refused(
    sessions: SessionRegistry,
) -> None:
    with pytest.raises(SessionCommandError, match="conversation_id"):
        sessions.subscribe("")
    with pytest.raises(SessionCommandError, match="conversation_id"):
        sessions.subscribe(42)  # type: ignore[arg-type]


async def test_subscribing_from_another_event_loop_is_refused(sessions: SessionRegistry) -> None:
    async def elsewhere() -> None:
        async with sessions.subscribe():
            pass

    with pytest.raises(SessionCommandError, match="event loop"):
        await asyncio.wait_for(asyncio.to_thread(asyncio.run, elsewhere()), TIMEOUT)
