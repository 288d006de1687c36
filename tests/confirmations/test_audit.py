"""History, listing and observers of confirmations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from soni.confirmations import (
    Actor,
    ConfirmationEvent,
    ConfirmationExpired,
    ConfirmationRegistry,
    MemoryConfirmationStore,
    PendingConfirmation,
    SqliteConfirmationStore,
    Status,
)

from .conftest import (
    ALICE,
    SYSTEM,
    FakeClock,
    RegistryFactory,
    moves,
    record_events,
    register_transfer,
    transitions,
)

# -- history and listing -----------------------------------------------------------


async def test_history_lists_every_transition_in_order(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    record, token = await register_transfer(registry)
    times = [clock()]
    steps = [
        lambda: registry.mark_shown(token, actor="alice", channel="ws"),
        lambda: registry.decide(token, "approve", actor="alice", channel="chat"),
        lambda: registry.begin_execution(token),
        lambda: registry.record_result(token, {"ok": True}),
    ]
    for step in steps:
        times.append(clock.advance(2))
        await step()

    history = await registry.history(record.id)

    assert transitions(history) == [
        (None, Status.PENDING),
        (Status.PENDING, Status.SHOWN),
        (Status.SHOWN, Status.APPROVED),
        (Status.APPROVED, Status.EXECUTING),
        (Status.EXECUTING, Status.EXECUTED),
    ]
    assert [entry.actor for entry in history] == [
        SYSTEM,
        Actor("alice", "ws"),
        ALICE,
        SYSTEM,
        SYSTEM,
    ]
    assert [entry.at for entry in history] == times
    assert {entry.confirmation_id for entry in history} == {record.id}
    final = await registry.get(token)
    assert final.updated_at == times[-1]
    assert final.decided_at == times[2]


async def test_history_of_an_unknown_id_is_empty(registry: ConfirmationRegistry) -> None:
    assert await registry.history("no-such-id") == []
    assert await registry.get_by_id("no-such-id") is None


async def test_list_filters_by_conversation_user_and_status(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    made: dict[str, str] = {}
    for name, conversation, user in [
        ("a", "conv-1", "alice"),
        ("b", "conv-1", "alice"),
        ("c", "conv-2", "bob"),
        ("d", "conv-2", "alice"),
    ]:
        clock.advance(1)
        _, token = await registry.register(
            conversation_id=conversation, user_id=user, actions=[(name, {})], prompt="?"
        )
        made[name] = token
    await registry.decide(made["b"], "skip")
    await registry.mark_shown(made["c"])

    def names(records: list[PendingConfirmation]) -> list[str]:
        return [r.options[0] for r in records]

    assert names(await registry.list()) == ["a", "b", "c", "d"]
    assert names(await registry.list(conversation_id="conv-1")) == ["a", "b"]
    assert names(await registry.list(user_id="alice")) == ["a", "b", "d"]
    assert names(await registry.list(status="pending")) == ["a", "d"]
    assert names(await registry.list(status={"pending", "shown"})) == ["a", "c", "d"]
    assert names(await registry.list(status=Status.SKIPPED)) == ["b"]
    assert names(await registry.list(conversation_id="conv-2", user_id="alice")) == ["d"]
    assert names(await registry.list(limit=2)) == ["a", "b"]
    assert await registry.list(conversation_id="conv-3") == []


# -- observers ---------------------------------------------------------------------


async def test_observers_see_every_committed_transition_in_order(
    registry: ConfirmationRegistry,
) -> None:
    events: list[ConfirmationEvent] = []
    registry.subscribe(events.append)

    record, token = await register_transfer(registry)
    await registry.mark_shown(token)
    await registry.decide(token, "approve", actor="alice", channel="chat")
    await registry.decide(token, "approve")  # a repeat commits nothing
    await registry.begin_execution(token)
    await registry.begin_execution(token)  # nor does a second claim
    await registry.record_result(token, {"ok": True})

    assert [(e.from_status, e.to_status) for e in events] == [
        (None, Status.PENDING),
        (Status.PENDING, Status.SHOWN),
        (Status.SHOWN, Status.APPROVED),
        (Status.APPROVED, Status.EXECUTING),
        (Status.EXECUTING, Status.EXECUTED),
    ]
    assert {e.confirmation_id for e in events} == {record.id}
    assert {e.confirmation.id for e in events if e.confirmation is not None} == {record.id}
    assert events[2].actor == ALICE
    assert events[2].confirmation.status is Status.APPROVED
    assert events[-1].confirmation.result == {"ok": True}
    assert [e.at for e in events] == [e.at for e in await registry.history(record.id)]


async def test_observers_see_withdrawals_and_expiry(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    events: list[ConfirmationEvent] = []
    registry.subscribe(events.append)
    _, cancelled = await register_transfer(registry, amount=1)
    _, superseded = await register_transfer(registry, amount=2)
    _, expiring = await register_transfer(registry, amount=3, ttl=10)
    await registry.cancel(cancelled)
    await registry.supersede(superseded)
    clock.advance(11)

    with pytest.raises(ConfirmationExpired):
        await registry.decide(expiring, "approve")

    assert [e.to_status for e in events] == [
        Status.PENDING,
        Status.PENDING,
        Status.PENDING,
        Status.CANCELLED,
        Status.SUPERSEDED,
        Status.EXPIRED,
    ]


async def test_observers_see_expiry_by_cleanup_with_the_status_it_left(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    events: list[ConfirmationEvent] = []
    record, token = await register_transfer(registry, ttl=10)
    await registry.mark_shown(token)
    registry.subscribe(events.append)
    clock.advance(11)

    assert await registry.cleanup_expired() == 1

    assert [(e.from_status, e.to_status) for e in events] == [(Status.SHOWN, Status.EXPIRED)]
    assert events[0].confirmation_id == record.id
    assert events[0].conversation_id == "conv-1"
    assert events[0].actor == SYSTEM
    assert transitions(await registry.history(record.id))[-1] == (Status.SHOWN, Status.EXPIRED)


async def test_an_async_observer_is_awaited(registry: ConfirmationRegistry) -> None:
    seen: list[Status] = []

    async def observer(event: ConfirmationEvent) -> None:
        await asyncio.sleep(0)
        seen.append(event.to_status)

    registry.subscribe(observer)
    _, token = await register_transfer(registry)
    await registry.decide(token, "skip")

    assert seen == [Status.PENDING, Status.SKIPPED]


async def test_a_failing_observer_does_not_break_the_decision(
    registry: ConfirmationRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    after: list[Status] = []

    def broken(event: ConfirmationEvent) -> None:
        raise RuntimeError("observer exploded")

    async def broken_async(event: ConfirmationEvent) -> None:
        raise RuntimeError("async observer exploded")

    _, token = await register_transfer(registry)
    registry.subscribe(broken)
    registry.subscribe(broken_async)
    registry.subscribe(lambda event: after.append(event.to_status))

    with caplog.at_level(logging.ERROR, logger="soni.confirmations"):
        approved = await registry.decide(token, "approve")

    assert approved.status is Status.APPROVED
    assert (await registry.get(token)).status is Status.APPROVED
    assert after == [Status.APPROVED]
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 2
    assert {str(r.exc_info[1]) for r in failures if r.exc_info} == {
        "observer exploded",
        "async observer exploded",
    }


async def test_unsubscribe_stops_the_events(registry: ConfirmationRegistry) -> None:
    kept: list[Status] = []
    dropped: list[Status] = []
    registry.subscribe(lambda event: kept.append(event.to_status))
    unsubscribe = registry.subscribe(lambda event: dropped.append(event.to_status))
    _, token = await register_transfer(registry)

    unsubscribe()
    await registry.decide(token, "approve")
    unsubscribe()  # a second call is harmless

    assert dropped == [Status.PENDING]
    assert kept == [Status.PENDING, Status.APPROVED]


async def test_a_negative_limit_is_refused(registry: ConfirmationRegistry) -> None:
    await register_transfer(registry)
    with pytest.raises(ValueError, match="limit"):
        await registry.list(limit=-1)
    assert await registry.list(limit=0) == []


# -- events carry the status the transition really left -------------------------


class HeldLookups:
    """Holds the next token lookup, after it read the record, until told to go on."""

    _hold = False

    def hold_next_lookup(self) -> None:
        self._hold = True
        self.looked_up = asyncio.Event()
        self.go_on = asyncio.Event()

    async def find_by_token_hash(self, token_hash: str) -> PendingConfirmation | None:
        lookup = super().find_by_token_hash  # type: ignore[misc]
        record: PendingConfirmation | None = await lookup(token_hash)
        if self._hold:
            self._hold = False
            self.looked_up.set()
            await asyncio.wait_for(self.go_on.wait(), 5)
        return record


class HeldMemoryStore(HeldLookups, MemoryConfirmationStore):
    pass


class HeldSqliteStore(HeldLookups, SqliteConfirmationStore):
    pass


Act = Callable[[ConfirmationRegistry, str], Awaitable[Any]]

ACTS: dict[str, tuple[Act, Status]] = {
    "decide": (lambda r, t: r.decide(t, "approve", actor="alice"), Status.APPROVED),
    "cancel": (lambda r, t: r.cancel(t), Status.CANCELLED),
}


@pytest.mark.parametrize("act", ACTS)
async def test_events_carry_the_status_the_transition_really_left(
    make_registry: RegistryFactory, store_kind: str, tmp_path: Path, act: str
) -> None:
    store = HeldMemoryStore() if store_kind == "memory" else HeldSqliteStore(tmp_path / "held.db")
    registry = make_registry(store=store)
    record, token = await register_transfer(registry)
    events = record_events(registry)

    operation, target = ACTS[act]
    store.hold_next_lookup()
    acting = asyncio.create_task(operation(registry, token))
    await asyncio.wait_for(store.looked_up.wait(), 5)  # it read the record as pending...
    await registry.mark_shown(token, actor="alice")  # ...which is then shown
    store.go_on.set()
    await asyncio.wait_for(acting, 5)

    history = await registry.history(record.id)
    assert transitions(history) == [
        (None, Status.PENDING),
        (Status.PENDING, Status.SHOWN),
        (Status.SHOWN, target),
    ]
    assert moves(events) == [(Status.PENDING, Status.SHOWN), (Status.SHOWN, target)]


async def test_the_decision_event_after_mark_shown_leaves_shown(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)
    events = record_events(registry)

    await registry.mark_shown(token)
    await registry.decide(token, "approve")

    history = await registry.history(record.id)
    assert events[-1].from_status is Status.SHOWN
    assert events[-1].from_status == history[-1].from_status
