"""record(): confirmation transitions, as a bot's ``ConfirmationChanged`` events,
become the conversation's session events."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from soni.confirmations import (
    Actor,
    ConfirmationEvent,
    ConfirmationExpired,
    ConfirmationRegistry,
    MemoryConfirmationStore,
)
from soni.engine import ConfirmationChanged
from soni.sessions import SessionRegistry

from .conftest import TIMEOUT, kinds, take


def watch(sessions: SessionRegistry, confirmations: ConfirmationRegistry) -> Callable[[], None]:
    """Feed ``sessions`` the registry's transitions as a bot's event stream does."""

    def observe(event: ConfirmationEvent) -> None:
        sessions.record(ConfirmationChanged(event, remote=event.remote))

    return confirmations.subscribe(observe)


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def confirmations(clock: Clock) -> AsyncIterator[ConfirmationRegistry]:
    registry = ConfirmationRegistry(MemoryConfirmationStore(), clock=clock)
    yield registry
    await registry.aclose()


async def register(
    confirmations: ConfirmationRegistry, *names: str, conversation_id: str = "c1", ttl: float = 60
) -> str:
    _, token = await confirmations.register(
        conversation_id=conversation_id,
        user_id="alice",
        actions=[(name, {"amount": 10}) for name in names or ("transfer",)],
        prompt="Go ahead?",
        ttl=ttl,
    )
    return token


async def test_a_confirmation_s_life_becomes_session_events(
    sessions: SessionRegistry, confirmations: ConfirmationRegistry, clock: Clock
) -> None:
    unwatch = watch(sessions, confirmations)
    async with sessions.subscribe("c1") as subscription:
        token = await register(confirmations)
        record = await confirmations.get(token)
        await confirmations.mark_shown(token)  # not announced
        await confirmations.decide(token, "approve", actor=Actor("bob", "http"))
        execution = await confirmations.begin_execution(token)  # not announced
        assert execution.should_run
        await confirmations.record_result(token, {"ok": True})
        events = await take(subscription, 3)
        unwatch()

    requested, decided, executed = events
    assert kinds(events) == [
        ("confirmation_requested", "c1"),
        ("confirmation_decided", "c1"),
        ("action_executed", "c1"),
    ]
    assert requested.data == {
        "confirmation_id": record.id,
        "prompt": "Go ahead?",
        "options": ["transfer"],
        "labels": [None],
        "expires_at": (clock() + timedelta(seconds=60)).isoformat(),
        "user_id": "alice",
    }
    assert token not in str(requested.to_data())  # tokens are capabilities
    assert decided.data == {
        "confirmation_id": record.id,
        "decision": "transfer",
        "status": "approved",
        "actor": {"user_id": "bob", "channel": "http"},
    }
    assert executed.data == {
        "confirmation_id": record.id,
        "action": "transfer",
        "ok": True,
        "error": None,
    }
    assert all(event.at == clock() for event in events)


async def test_skips_choices_failures_and_expiries(
    sessions: SessionRegistry, confirmations: ConfirmationRegistry, clock: Clock
) -> None:
    watch(sessions, confirmations)
    async with sessions.subscribe() as subscription:
        skipped = await register(confirmations)
        await confirmations.decide(skipped, "skip", actor="alice", channel="chat")

        chosen = await register(confirmations, "book_train", "book_flight", conversation_id="c2")
        await confirmations.decide(chosen, "book_flight", actor="alice", channel="ws")

        failing = await register(confirmations, "pay", conversation_id="c3")
        await confirmations.decide_and_begin(failing, "approve", actor="alice", channel="chat")
        await confirmations.record_result(failing, error="bank unavailable")

        await register(confirmations, conversation_id="c4", ttl=10)  # swept
        late = await register(confirmations, conversation_id="c5", ttl=10)
        clock.advance(30)
        assert await confirmations.cleanup_expired() == 2  # in bulk: records not read back
        with pytest.raises(ConfirmationExpired):
            await confirmations.decide(late, "approve")  # already recorded: no new event

        expiring = await register(confirmations, conversation_id="c6", ttl=10)
        clock.advance(30)
        with pytest.raises(ConfirmationExpired):
            await confirmations.decide(expiring, "approve")  # recorded by this decision

        events = await take(subscription, 13)

    assert [(e.type, e.conversation_id) for e in events if e.type != "confirmation_requested"] == [
        ("confirmation_decided", "c1"),
        ("confirmation_decided", "c2"),
        ("confirmation_decided", "c3"),
        ("action_executed", "c3"),
        ("confirmation_expired", "c4"),
        ("confirmation_expired", "c5"),
        ("confirmation_expired", "c6"),
    ]
    by_conversation = {(e.type, e.conversation_id): e.data for e in events}
    skip = by_conversation[("confirmation_decided", "c1")]
    assert (skip["decision"], skip["status"]) == ("skip", "skipped")
    assert skip["actor"] == {"user_id": "alice", "channel": "chat"}
    choice = by_conversation[("confirmation_decided", "c2")]
    assert (choice["decision"], choice["status"]) == ("book_flight", "approved")
    assert choice["actor"]["channel"] == "ws"
    failure = by_conversation[("action_executed", "c3")]
    assert (failure["action"], failure["ok"], failure["error"]) == (
        "pay",
        False,
        "bank unavailable",
    )
    for conversation_id in ("c4", "c5", "c6"):
        expired = by_conversation[("confirmation_expired", conversation_id)]
        assert set(expired) == {"confirmation_id"}
    assert len({e.data["confirmation_id"] for e in events}) == 6


async def test_transitions_made_on_another_thread_s_event_loop_arrive(
    sessions: SessionRegistry, confirmations: ConfirmationRegistry
) -> None:
    watch(sessions, confirmations)

    async def elsewhere() -> None:
        token = await register(confirmations, conversation_id="remote")
        await confirmations.decide(token, "approve", actor="carol", channel="cli")

    async with sessions.subscribe("remote") as subscription:
        await asyncio.wait_for(asyncio.to_thread(asyncio.run, elsewhere()), TIMEOUT)
        events = await take(subscription, 2)

    assert [e.type for e in events] == ["confirmation_requested", "confirmation_decided"]
    assert events[1].data["actor"] == {"user_id": "carol", "channel": "cli"}


async def test_after_unwatching_or_stopping_transitions_are_not_published(
    confirmations: ConfirmationRegistry,
) -> None:
    sessions = SessionRegistry()
    watch(sessions, confirmations)
    await register(confirmations, conversation_id="early")  # not running: dropped
    await sessions.start()
    try:
        unwatch = watch(sessions, confirmations)
        async with sessions.subscribe() as subscription:
            await register(confirmations, conversation_id="watched")
            events = await take(subscription, 2)  # one per watch
            unwatch()
            await register(confirmations, conversation_id="watched")
            await sessions.publish(events[0])
            after = await take(subscription, 2)
        assert kinds(events) == [("confirmation_requested", "watched")] * 2
        assert len({e.data["confirmation_id"] for e in after}) == 2  # the new one, then ours
    finally:
        await sessions.stop()
    await register(confirmations, conversation_id="late")  # stopped: dropped, no error


async def test_an_interrupted_run_and_what_was_found_later_are_announced(
    sessions: SessionRegistry, confirmations: ConfirmationRegistry
) -> None:
    watch(sessions, confirmations)
    async with sessions.subscribe("c1") as subscription:
        token = await register(confirmations)
        # Claimed by a task that ended without recording an outcome.
        await asyncio.create_task(
            confirmations.decide_and_begin(token, "approve", actor="alice", channel="chat")
        )
        interrupted = await confirmations.settle(token)
        await confirmations.resolve(token, {"ok": True}, actor="ops", channel="cli")
        events = await take(subscription, 4)

    assert kinds(events)[2:] == [("action_interrupted", "c1"), ("action_executed", "c1")]
    assert events[2].data == {"confirmation_id": interrupted.id, "action": "transfer"}
    assert events[3].data["ok"] is True
