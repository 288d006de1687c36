"""Time: expiry with an injected clock, sweeping, purging, and waiting for a decision."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from soni.confirmations import (
    Actor,
    ConfirmationEvent,
    ConfirmationExpired,
    ConfirmationRegistry,
    ExpirySweeper,
    MemoryConfirmationStore,
    PendingConfirmation,
    Status,
    UnknownConfirmation,
)

from .conftest import (
    FakeClock,
    RegistryFactory,
    moves,
    record_events,
    register_transfer,
    transitions,
)

# How long a woken waiter may take to return. A wake-up takes microseconds; where a
# test disables polling (poll_interval=60), a lost wake-up would take a minute.
WAKE_UP = 5.0


async def register(
    registry: ConfirmationRegistry, name: str = "transfer", **options: Any
) -> tuple[PendingConfirmation, str]:
    options.setdefault("conversation_id", "conv-1")
    return await registry.register(actions=[(name, {"n": 1})], prompt="Go ahead?", **options)


def expired(registry: ConfirmationRegistry, record: PendingConfirmation) -> asyncio.Event:
    """Set once the registry records ``record``'s expiry (observers run in the sweep)."""
    seen = asyncio.Event()

    def note(event: ConfirmationEvent) -> None:
        if event.confirmation_id == record.id and event.to_status is Status.EXPIRED:
            seen.set()

    registry.subscribe(note)
    return seen


async def expiry(seen: asyncio.Event) -> None:
    """Wait for an ``expired`` event; fail after two seconds."""
    await asyncio.wait_for(seen.wait(), 2.0)


async def status_of(registry: ConfirmationRegistry, token: str) -> Status:
    return (await registry.get(token)).status


# -- cleanup_expired ---------------------------------------------------------------


async def test_cleanup_expires_only_open_confirmations_past_their_time(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    _, due_pending = await register(registry, "a", ttl=10)
    _, due_shown = await register(registry, "b", ttl=20)
    await registry.mark_shown(due_shown)
    _, decided = await register(registry, "c", ttl=10)
    await registry.decide(decided, "approve")
    _, not_due = await register(registry, "d", ttl=100)
    clock.advance(30)

    assert await registry.cleanup_expired() == 2
    assert await registry.cleanup_expired() == 0

    assert await status_of(registry, due_pending) is Status.EXPIRED
    assert await status_of(registry, due_shown) is Status.EXPIRED
    assert await status_of(registry, decided) is Status.APPROVED
    assert await status_of(registry, not_due) is Status.PENDING


async def test_cleanup_with_nothing_due_expires_nothing(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    _, token = await register(registry, ttl=60)
    clock.advance(59)

    assert await registry.cleanup_expired() == 0
    assert await status_of(registry, token) is Status.PENDING


async def test_expired_is_not_skipped_in_status_history_or_listing(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    expired_record, expired = await register(registry, "a", ttl=10)
    skipped_record, skipped = await register(registry, "b", ttl=10)
    await registry.decide(skipped, "skip", actor="alice", channel="chat")
    clock.advance(11)

    assert await registry.cleanup_expired() == 1

    record = await registry.get(expired)
    assert record.status is Status.EXPIRED
    assert record.decision is None
    assert record.decided_by is None
    history = await registry.history(expired_record.id)
    assert [(e.from_status, e.to_status) for e in history] == [
        (None, Status.PENDING),
        (Status.PENDING, Status.EXPIRED),
    ]
    assert history[-1].actor == Actor(None, "system")
    assert history[-1].at == clock()
    assert Status.SKIPPED not in {e.to_status for e in history}
    assert [r.id for r in await registry.list(status="expired")] == [expired_record.id]
    assert [r.id for r in await registry.list(status="skipped")] == [skipped_record.id]
    with pytest.raises(ConfirmationExpired):
        await registry.decide(expired, "skip")


async def test_expiry_needs_no_sweep_to_refuse_a_decision(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    _, token = await register(registry, ttl=5)
    clock.advance(timedelta(minutes=1).total_seconds())

    with pytest.raises(ConfirmationExpired):
        await registry.decide(token, "approve")
    assert await registry.cleanup_expired() == 0


async def test_cleanup_works_through_every_batch(
    make_registry: RegistryFactory, clock: FakeClock
) -> None:
    registry = make_registry(sweep_batch=2)
    tokens = [(await register(registry, f"a{i}", ttl=10 + i))[1] for i in range(5)]
    _, later = await register(registry, "later", ttl=100)
    clock.advance(50)

    assert await registry.cleanup_expired() == 5

    assert [await status_of(registry, t) for t in tokens] == [Status.EXPIRED] * 5
    assert await status_of(registry, later) is Status.PENDING
    assert await registry.cleanup_expired() == 0


@pytest.mark.parametrize("batch", [0, -1])
def test_a_sweep_batch_that_is_not_positive_is_refused(batch: int) -> None:
    # With 0 or less, cleanup_expired would never finish a sweep.
    with pytest.raises(ValueError):
        ConfirmationRegistry(MemoryConfirmationStore(), sweep_batch=batch)


async def test_default_ttl_is_used_when_none_is_given(
    make_registry: RegistryFactory, clock: FakeClock
) -> None:
    registry = make_registry(default_ttl=timedelta(seconds=45))
    record, token = await register(registry)

    assert record.expires_at == clock() + timedelta(seconds=45)
    clock.advance(44)
    assert await registry.cleanup_expired() == 0
    clock.advance(1)
    assert await registry.cleanup_expired() == 1
    assert await status_of(registry, token) is Status.EXPIRED


# -- purge -------------------------------------------------------------------------


async def test_purge_deletes_closed_confirmations_past_retention_only(
    make_registry: RegistryFactory, clock: FakeClock
) -> None:
    registry = make_registry(retention=timedelta(days=1))
    old_closed, old_closed_token = await register(registry, "old_closed", ttl=3600)
    await registry.decide(old_closed_token, "skip")
    old_open, old_open_token = await register(registry, "old_open", ttl=10 * 86400)
    old_expired, old_expired_token = await register(registry, "old_expired", ttl=60)
    clock.advance(120)
    assert await registry.cleanup_expired() == 1
    clock.advance(timedelta(days=2).total_seconds())
    recent, recent_token = await register(registry, "recent", ttl=3600)
    await registry.decide(recent_token, "approve")
    clock.advance(3600)

    assert await registry.purge() == 2

    for record, token in ((old_closed, old_closed_token), (old_expired, old_expired_token)):
        assert await registry.get_by_id(record.id) is None
        assert await registry.history(record.id) == []
        with pytest.raises(UnknownConfirmation):
            await registry.get(token)
    assert await status_of(registry, old_open_token) is Status.PENDING
    assert await status_of(registry, recent_token) is Status.APPROVED
    assert len(await registry.history(old_open.id)) == 1
    assert len(await registry.history(recent.id)) == 2
    assert await registry.purge() == 0


async def test_purge_counts_retention_from_the_last_transition(
    make_registry: RegistryFactory, clock: FakeClock
) -> None:
    registry = make_registry(retention=timedelta(hours=1))
    _, token = await register(registry, ttl=86400)
    clock.advance(7200)  # created long ago, but closed just now
    await registry.decide(token, "skip")
    clock.advance(1800)

    assert await registry.purge() == 0
    clock.advance(1801)
    assert await registry.purge() == 1


# -- the sweeper -------------------------------------------------------------------


async def test_sweeper_expires_due_confirmations_in_the_background(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    record, due = await register(registry, "a", ttl=10)
    _, later = await register(registry, "b", ttl=1000)
    due_expired = expired(registry, record)

    async with ExpirySweeper(registry, interval=0.01) as sweeper:
        assert sweeper.running
        clock.advance(11)
        await expiry(due_expired)
        assert await status_of(registry, due) is Status.EXPIRED
        assert await status_of(registry, later) is Status.PENDING

    assert not sweeper.running


async def test_sweeper_stop_ends_its_task_and_can_restart(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    record, token = await register(registry, ttl=10)
    sweeper = ExpirySweeper(registry, interval=0.01)
    sweeper.start()
    sweeper.start()  # already running: no second task
    await sweeper.stop()
    assert not sweeper.running
    await sweeper.stop()  # harmless

    seen = expired(registry, record)
    sweeper.start()
    clock.advance(11)
    try:
        await expiry(seen)
        assert await status_of(registry, token) is Status.EXPIRED
    finally:
        await sweeper.stop()
    assert not sweeper.running


async def test_sweeper_sweep_reports_expired_and_purged(
    make_registry: RegistryFactory, clock: FakeClock
) -> None:
    registry = make_registry(retention=timedelta(seconds=60))
    _, skipped = await register(registry, "a", ttl=1000)
    await registry.decide(skipped, "skip")
    await register(registry, "b", ttl=10)
    clock.advance(100)
    sweeper = ExpirySweeper(registry, interval=60)

    assert await sweeper.sweep() == (1, 0)
    clock.advance(100)
    assert await sweeper.sweep(purge=True) == (0, 2)


def test_sweeper_interval_must_be_positive() -> None:
    registry = ConfirmationRegistry(MemoryConfirmationStore())
    for interval in (0, -1):
        with pytest.raises(ValueError):
            ExpirySweeper(registry, interval=interval)


@pytest.mark.parametrize("store_kind", ["memory"], indirect=True)
async def test_a_sweeper_that_is_told_never_to_purge_still_expires(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    # purge_every=0 reads as "never purge"; refusing it up front would be fine too,
    # but a sweeper that runs and never expires anything is not.
    try:
        sweeper = ExpirySweeper(registry, interval=0.01, purge_every=0)
    except ValueError:
        return
    record, token = await register(registry, ttl=10)
    seen = expired(registry, record)
    clock.advance(11)

    async with sweeper:
        await expiry(seen)
        assert await status_of(registry, token) is Status.EXPIRED


class FlakyStore(MemoryConfirmationStore):
    """A store whose first expiry sweeps fail, as a locked database would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def expire_due(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database is locked")
        return await super().expire_due(*args, **kwargs)


@pytest.mark.parametrize("store_kind", ["memory"], indirect=True)
async def test_sweeper_keeps_going_after_a_failed_sweep(
    make_registry: RegistryFactory, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore(failures=2)
    registry = make_registry(store=store)
    record, token = await register(registry, ttl=10)
    seen = expired(registry, record)
    clock.advance(11)

    with caplog.at_level(logging.ERROR, logger="soni.confirmations"):
        async with ExpirySweeper(registry, interval=0.01):
            await expiry(seen)
            assert await status_of(registry, token) is Status.EXPIRED

    assert store.failures == 0
    logged = [r.exc_info[1] for r in caplog.records if r.exc_info is not None]
    assert [str(exc) for exc in logged] == ["database is locked"] * 2


# -- wait --------------------------------------------------------------------------


async def test_wait_returns_the_record_once_another_task_decides(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register(registry)
    waiting = asyncio.create_task(registry.wait(token, timeout=10))
    done, _ = await asyncio.wait({waiting}, timeout=0.05)
    assert not done  # nothing decided yet: it keeps waiting

    await registry.decide(token, "approve", actor="alice", channel="http")
    record = await asyncio.wait_for(waiting, 5)

    assert record.status is Status.APPROVED
    assert record.decided_by == Actor("alice", "http")


async def test_wait_sees_a_decision_made_on_another_threads_event_loop(
    make_registry: RegistryFactory,
) -> None:
    # Polling is made too slow to help: only the wake-up can end this wait in time.
    registry = make_registry(poll_interval=60)
    _, token = await register(registry)
    waiting = asyncio.create_task(registry.wait(token, timeout=30))
    done, _ = await asyncio.wait({waiting}, timeout=0.05)
    assert not done
    outcome: list[object] = []

    def decide_in_thread() -> None:
        outcome.append(asyncio.run(registry.decide(token, "skip", actor="bob", channel="ws")))

    thread = threading.Thread(target=decide_in_thread)
    thread.start()
    record = await asyncio.wait_for(waiting, WAKE_UP)
    await asyncio.to_thread(thread.join, 10)

    assert record.status is Status.SKIPPED
    assert record.decided_by == Actor("bob", "ws")
    assert [r.status for r in outcome] == [Status.SKIPPED]  # type: ignore[attr-defined]


async def test_wait_times_out_and_leaves_the_confirmation_pending(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register(registry)

    with pytest.raises(TimeoutError):
        await registry.wait(token, timeout=0.05)

    assert await status_of(registry, token) is Status.PENDING
    assert len(await registry.history(record.id)) == 1
    assert (await registry.decide(token, "approve")).status is Status.APPROVED


async def test_wait_on_a_decided_confirmation_returns_at_once(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register(registry)
    decided = await registry.decide(token, "skip")

    assert await registry.wait(token, timeout=0.01) == decided


async def test_a_waiter_registered_before_the_decision_never_misses_it(
    make_registry: RegistryFactory,
) -> None:
    # The engine starts waiting, then sends the prompt; the answer may come back
    # before the waiter ever ran. Polling is disabled (60 s), so a lost wake-up
    # would surface as a TimeoutError.
    registry = make_registry(poll_interval=60)
    for attempt in range(50):
        _, token = await register(registry, conversation_id=f"conv-{attempt}")
        waiting = asyncio.create_task(registry.wait(token, timeout=30))
        for _ in range(attempt % 5):
            await asyncio.sleep(0)
        decision = "approve" if attempt % 2 else "skip"

        decided = await registry.decide(token, decision)

        assert await asyncio.wait_for(waiting, WAKE_UP) == decided, f"attempt {attempt}"


async def test_a_decision_from_another_thread_racing_the_waiter_is_never_missed(
    make_registry: RegistryFactory,
) -> None:
    # The same race when the answer arrives on another thread's event loop (an HTTP
    # worker, say) while the waiter is still starting up.
    registry = make_registry(poll_interval=60)

    def decide_when_told(token: str, go: threading.Event) -> PendingConfirmation:
        go.wait(WAKE_UP)
        return asyncio.run(registry.decide(token, "approve"))

    for attempt in range(50):
        _, token = await register(registry, conversation_id=f"conv-{attempt}")
        go = threading.Event()
        deciding = asyncio.ensure_future(asyncio.to_thread(decide_when_told, token, go))
        waiting = asyncio.create_task(registry.wait(token, timeout=30))
        go.set()

        decided = await asyncio.wait_for(deciding, WAKE_UP)
        assert await asyncio.wait_for(waiting, WAKE_UP) == decided, f"attempt {attempt}"


class HeldReadStore(MemoryConfirmationStore):
    """A store that can hold one read back after it was made, so it comes back stale."""

    def __init__(self) -> None:
        super().__init__()
        self._hold_next = False
        self.read_held = asyncio.Event()
        self.release = asyncio.Event()

    def hold_next_read(self) -> None:
        self._hold_next = True

    async def _held(self, record: PendingConfirmation | None) -> PendingConfirmation | None:
        if self._hold_next:
            self._hold_next = False
            self.read_held.set()
            await self.release.wait()
        return record

    async def get(self, confirmation_id: str) -> PendingConfirmation | None:
        return await self._held(await super().get(confirmation_id))

    async def find_by_token_hash(self, token_hash: str) -> PendingConfirmation | None:
        return await self._held(await super().find_by_token_hash(token_hash))


@pytest.mark.parametrize("store_kind", ["memory"], indirect=True)
async def test_a_decision_landing_between_the_waiters_first_look_and_its_listening_is_seen(
    make_registry: RegistryFactory,
) -> None:
    store = HeldReadStore()
    registry = make_registry(store=store, poll_interval=60)
    _, token = await register(registry)
    store.hold_next_read()
    waiting = asyncio.create_task(registry.wait(token, timeout=30))
    await asyncio.wait_for(store.read_held.wait(), WAKE_UP)  # the waiter saw "pending"

    decided = await registry.decide(token, "approve")
    store.release.set()

    assert await asyncio.wait_for(waiting, WAKE_UP) == decided


async def test_many_waiters_on_one_confirmation_all_wake(
    make_registry: RegistryFactory,
) -> None:
    registry = make_registry(poll_interval=60)
    _, token = await register(registry)
    waiters = [asyncio.create_task(registry.wait(token, timeout=30)) for _ in range(10)]
    await asyncio.sleep(0)

    decided = await registry.decide(token, "approve")

    assert await asyncio.wait_for(asyncio.gather(*waiters), WAKE_UP) == [decided] * 10


async def test_wait_notices_expiry_without_a_sweeper(
    make_registry: RegistryFactory, clock: FakeClock
) -> None:
    registry = make_registry(poll_interval=0.01)
    record, token = await register(registry, ttl=30)
    waiting = asyncio.create_task(registry.wait(token, timeout=5))
    done, _ = await asyncio.wait({waiting}, timeout=0.05)
    assert not done

    clock.advance(31)
    result = await asyncio.wait_for(waiting, 5)

    assert result.status is Status.EXPIRED
    assert await status_of(registry, token) is Status.EXPIRED
    history = await registry.history(record.id)
    assert [e.to_status for e in history] == [Status.PENDING, Status.EXPIRED]


async def test_wait_is_woken_by_an_expiry_recorded_in_a_sweep(
    make_registry: RegistryFactory, clock: FakeClock
) -> None:
    registry = make_registry(poll_interval=60)
    _, token = await register(registry, ttl=30)
    waiting = asyncio.create_task(registry.wait(token, timeout=30))
    done, _ = await asyncio.wait({waiting}, timeout=0.05)
    assert not done

    clock.advance(31)
    assert await registry.cleanup_expired() == 1
    result = await asyncio.wait_for(waiting, WAKE_UP)

    assert result.status is Status.EXPIRED
    assert result == await registry.get(token)


async def test_wait_returns_when_the_confirmation_is_withdrawn(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register(registry)
    waiting = asyncio.create_task(registry.wait(token, timeout=5))
    await asyncio.sleep(0)

    await registry.cancel(token)

    assert (await asyncio.wait_for(waiting, 5)).status is Status.CANCELLED


async def test_a_cancelled_wait_leaves_the_confirmation_usable(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register(registry)
    waiting = asyncio.create_task(registry.wait(token))
    done, _ = await asyncio.wait({waiting}, timeout=0.05)
    assert not done

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    assert await status_of(registry, token) is Status.PENDING
    again = asyncio.create_task(registry.wait(token, timeout=30))
    decided = await registry.decide(token, "approve")
    assert await asyncio.wait_for(again, WAKE_UP) == decided


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_wait_sees_a_decision_made_through_another_store_on_the_same_file(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    # Two registries on one file stand for two processes: no in-process wake-up
    # crosses between them, so the waiter must find the decision by polling.
    path = tmp_path / "shared.db"
    waiter_side = make_registry(path=path, poll_interval=0.01)
    decider_side = make_registry(path=path)
    _, token = await register(waiter_side)
    waiting = asyncio.create_task(waiter_side.wait(token, timeout=10))
    done, _ = await asyncio.wait({waiting}, timeout=0.05)
    assert not done

    await decider_side.decide(token, "approve", actor="alice", channel="http")
    record = await asyncio.wait_for(waiting, 5)

    assert record.status is Status.APPROVED
    assert record.decided_by == Actor("alice", "http")


async def test_expiries_go_on_while_a_long_purge_runs(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    purging = asyncio.Event()
    finish_purging = asyncio.Event()
    purges = 0

    async def slow_maintenance(now: float) -> None:
        # A purge of a large backlog paces itself over many seconds.
        nonlocal purges
        purges += 1
        purging.set()
        await finish_purging.wait()

    sweeper = ExpirySweeper(registry, interval=0.01, purge_every=2, maintain=slow_maintenance)
    async with sweeper:
        await asyncio.wait_for(purging.wait(), 10)
        record, token = await register(registry, ttl=10)
        seen = expired(registry, record)
        clock.advance(11)
        # Recorded by the rounds that go on beside the purge, not after it.
        await expiry(seen)
        assert await status_of(registry, token) is Status.EXPIRED
        assert purges == 1  # the rounds due meanwhile did not start a second one
        finish_purging.set()
    assert not sweeper.running


# -- a withdrawal that comes too late is an expiry ---------------------------------


@pytest.mark.parametrize("withdraw", ["cancel", "supersede", "cancel_conversation"])
async def test_withdrawing_a_confirmation_past_its_expiry_records_expired(
    registry: ConfirmationRegistry, clock: FakeClock, withdraw: str
) -> None:
    record, token = await register_transfer(registry, ttl=10)
    events = record_events(registry)
    clock.advance(11)

    if withdraw == "cancel_conversation":
        assert await registry.cancel_conversation("conv-1") == 0
    else:
        returned = await getattr(registry, withdraw)(token)
        assert returned.status is Status.EXPIRED

    assert (await registry.get(token)).status is Status.EXPIRED
    assert transitions(await registry.history(record.id)) == [
        (None, Status.PENDING),
        (Status.PENDING, Status.EXPIRED),
    ]
    assert moves(events) == [(Status.PENDING, Status.EXPIRED)]
