"""Regression tests for the review of the confirmation layer.

Several of them stage the race SQLite makes possible between two processes: another
connection holds the database's write lock, so the store's worker thread waits in
``BEGIN IMMEDIATE``; the caller is cancelled while it waits; then the lock is let go
and the change lands after all.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from soni.confirmations import (
    ConfirmationEvent,
    ConfirmationRegistry,
    ExpirySweeper,
    MemoryConfirmationStore,
    PendingConfirmation,
    SqliteConfirmationStore,
    Status,
)
from soni.errors import StoreClosed, UnknownConfirmation

from .conftest import FakeClock, RegistryFactory, register_transfer, transitions

SQLITE_ONLY = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
MEMORY_ONLY = pytest.mark.parametrize("store_kind", ["memory"], indirect=True)

# How long a follow-up (an event, a woken waiter) may take once the change landed.
# Where a test sets poll_interval=30, only an in-process wake-up can be this quick.
PROMPTLY = 2.0


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = 2.0) -> bool:
    """Poll ``check`` until it holds or ``within`` seconds pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)


def record_events(registry: ConfirmationRegistry) -> list[ConfirmationEvent]:
    events: list[ConfirmationEvent] = []
    registry.subscribe(events.append)
    return events


def moves(events: list[ConfirmationEvent]) -> list[tuple[Status | None, Status]]:
    return [(event.from_status, event.to_status) for event in events]


# -- staging the race --------------------------------------------------------------


class WriteLock:
    """SQLite's write lock on a file, held by a connection of its own (another process)."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self, *, commit: bool = False) -> None:
        if self.connection.in_transaction:
            self.connection.execute("COMMIT" if commit else "ROLLBACK")


@contextlib.contextmanager
def write_lock_held(path: str) -> Iterator[WriteLock]:
    lock = WriteLock(path)
    try:
        yield lock
    finally:
        lock.release()
        lock.connection.close()


async def next_write_starts(store: SqliteConfirmationStore) -> threading.Event:
    """An event set when the store's connection next starts a write transaction.

    SQLite reports the statement before it tries to take the lock, so once it is set
    a held write lock keeps that write waiting.
    """
    started = threading.Event()

    def trace(statement: str) -> None:
        if statement.startswith("BEGIN IMMEDIATE"):
            started.set()

    await store._run(lambda conn: conn.set_trace_callback(trace))
    return started


async def waits_for_lock(started: threading.Event) -> None:
    assert await asyncio.to_thread(started.wait, 5), "the write never started"


class ProbeStore(SqliteConfirmationStore):
    """Tells when ``get`` returned, and which records ``insert`` was asked to add."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.read = asyncio.Event()
        self.inserted: list[str] = []

    async def get(self, confirmation_id: str) -> PendingConfirmation | None:
        record = await super().get(confirmation_id)
        self.read.set()
        return record

    async def insert(self, record: PendingConfirmation) -> bool:
        self.inserted.append(record.id)
        return await super().insert(record)


async def parked_waiter(
    registry: ConfirmationRegistry, store: ProbeStore, token: str
) -> asyncio.Task[PendingConfirmation]:
    """A ``wait`` call that has read the store and now sleeps until woken (or polls)."""
    store.read.clear()
    waiter = asyncio.create_task(registry.wait(token, timeout=20))
    # ``wait`` goes straight from its read to its sleep: once the read is reported
    # and this task runs again, the waiter sleeps.
    await asyncio.wait_for(store.read.wait(), 5)
    assert not waiter.done()
    return waiter


# -- 1. a cancelled caller does not split a change from what must follow it ---------


async def pending(registry: ConfirmationRegistry) -> str:
    _, token = await register_transfer(registry)
    return token


async def approved(registry: ConfirmationRegistry) -> str:
    token = await pending(registry)
    await registry.decide(token, "approve", actor="alice")
    return token


async def executing(registry: ConfirmationRegistry) -> str:
    token = await approved(registry)
    assert (await registry.begin_execution(token)).should_run
    return token


Act = Callable[[ConfirmationRegistry, str], Awaitable[Any]]

OPERATIONS: dict[str, tuple[Callable[[ConfirmationRegistry], Awaitable[str]], Act, Status]] = {
    "decide": (pending, lambda r, t: r.decide(t, "approve", actor="alice"), Status.APPROVED),
    "cancel": (pending, lambda r, t: r.cancel(t), Status.CANCELLED),
    "begin_execution": (approved, lambda r, t: r.begin_execution(t), Status.EXECUTING),
    "record_result": (executing, lambda r, t: r.record_result(t, {"ok": True}), Status.EXECUTED),
}


@SQLITE_ONLY
@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_caller_cancelled_while_its_change_commits_still_gets_the_follow_ups(
    make_registry: RegistryFactory, tmp_path: Path, operation: str
) -> None:
    prepare, act, target = OPERATIONS[operation]
    store = ProbeStore(tmp_path / "race.db")
    registry = make_registry(store=store, poll_interval=30)
    token = await prepare(registry)
    before = await registry.get(token)
    events = record_events(registry)
    arrived = asyncio.Event()
    registry.subscribe(lambda event: arrived.set() if event.to_status is target else None)
    waiter = await parked_waiter(registry, store, token) if before.is_open else None

    try:
        started = await next_write_starts(store)
        with write_lock_held(store.path) as lock:
            caller = asyncio.create_task(act(registry, token))
            await waits_for_lock(started)
            caller.cancel()
            with pytest.raises(asyncio.CancelledError):
                await caller
            lock.release()

        await asyncio.wait_for(arrived.wait(), PROMPTLY)
        after = await registry.get_by_id(before.id)
        assert after is not None
        assert after.status is target
        assert moves(events) == [(before.status, target)]
        assert transitions(await registry.history(before.id))[-1] == (before.status, target)
        assert registry.token_of(after) is None
        if waiter is not None:
            woken = await asyncio.wait_for(waiter, PROMPTLY)
            assert woken.status is target
    finally:
        if waiter is not None:
            waiter.cancel()


# -- 3. "approve" and "skip" are decisions, not option names ------------------------


@pytest.mark.parametrize("reserved", ["approve", "skip"])
@pytest.mark.parametrize("kind", ["single", "choice"])
async def test_an_option_named_like_a_decision_is_refused(
    registry: ConfirmationRegistry, reserved: str, kind: str
) -> None:
    actions: list[Any] = [(reserved, {"n": 1})]
    if kind == "choice":
        actions.insert(0, ("book_train", {"to": "Paris"}))

    with pytest.raises(ValueError, match=reserved):
        await registry.register(conversation_id="conv-1", actions=actions, prompt="Go?")

    assert await registry.list() == []


# -- 4. a token is shown only while its confirmation is open ------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("closed_by", ["decision", "expiry"])
async def test_a_confirmation_closed_by_another_registry_shows_no_token(
    make_registry: RegistryFactory, tmp_path: Path, clock: FakeClock, closed_by: str
) -> None:
    path = tmp_path / "shared.db"
    mine = make_registry(path=path)
    theirs = make_registry(path=path)
    record, token = await register_transfer(mine, ttl=10)
    lasting, lasting_token = await register_transfer(mine, ttl=1000, conversation_id="conv-2")
    assert mine.token_of(record) == token
    if closed_by == "decision":
        await theirs.decide(token, "approve", actor="bob")
    clock.advance(11)
    if closed_by == "expiry":
        assert await theirs.cleanup_expired() == 1

    closed = await mine.get_by_id(record.id)
    assert closed is not None and not closed.is_open
    assert mine.token_of(closed) is None
    still_open = await mine.get_by_id(lasting.id)
    assert still_open is not None
    assert mine.token_of(still_open) == lasting_token


KEY = "conv-1:step-1"


async def register_cancelled_mid_insert(
    registry: ConfirmationRegistry, store: ProbeStore, meanwhile: Callable[[WriteLock], None]
) -> str:
    """Cancel a ``register`` whose insert waits for the lock; returns the record's id.

    ``meanwhile`` runs while the lock is still held, and must release it.
    """
    assert await registry.list() == []  # connected, schema created
    started = await next_write_starts(store)
    with write_lock_held(store.path) as lock:
        caller = asyncio.create_task(register_transfer(registry, key=KEY))
        await waits_for_lock(started)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        meanwhile(lock)
    [record_id] = store.inserted
    # One worker thread runs the store's operations in order: once this returns,
    # the cancelled insert has been tried.
    await store.count()
    return record_id


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def let_go(lock: WriteLock) -> None:
    lock.release()


def insert_a_rival_under_the_key(lock: WriteLock) -> None:
    # Another process registers the same key first and commits.
    lock.connection.execute(
        "INSERT INTO confirmations (id, token_hash, idempotency_key, conversation_id, kind,"
        " actions, prompt, created_at, expires_at, status, updated_at)"
        " VALUES ('rival', 'rival-hash', ?, 'conv-1', 'single', ?, 'Rival?', 0, ?, 'pending', 0)",
        (KEY, '[{"args":{},"name":"transfer"}]', _micros(datetime(2040, 1, 1, tzinfo=UTC))),
    )
    lock.release(commit=True)


@SQLITE_ONLY
async def test_a_cancelled_register_whose_insert_lost_leaves_no_token_behind(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    store = ProbeStore(tmp_path / "register.db")
    registry = make_registry(store=store)

    record_id = await register_cancelled_mid_insert(registry, store, insert_a_rival_under_the_key)

    rival = await store.find_open_by_key(KEY)
    assert rival is not None and rival.id == "rival"
    assert await store.get(record_id) is None
    # The id's token can be derived, but it stands for nothing the store holds.
    token = registry.known_token(record_id)
    assert token is not None
    with pytest.raises(UnknownConfirmation):
        await registry.get(token)


@SQLITE_ONLY
async def test_a_cancelled_register_whose_insert_landed_is_still_announced(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    store = ProbeStore(tmp_path / "register.db")
    registry = make_registry(store=store)
    events = record_events(registry)

    record_id = await register_cancelled_mid_insert(registry, store, let_go)

    assert await store.get(record_id) is not None
    assert await eventually(lambda: [e.confirmation_id for e in events] == [record_id], PROMPTLY)
    assert moves(events) == [(None, Status.PENDING)]


@SQLITE_ONLY
async def test_a_cancelled_register_whose_insert_landed_keeps_its_token_known(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    store = ProbeStore(tmp_path / "register.db")
    registry = make_registry(store=store)

    record_id = await register_cancelled_mid_insert(registry, store, let_go)

    stored = await store.get(record_id)
    assert stored is not None
    shown = registry.token_of(stored)
    assert shown is not None
    # So the step's retry gets the same confirmation back instead of superseding it.
    again, token = await register_transfer(registry, key=KEY)
    assert again.id == record_id
    assert token == shown


# -- 5. a cancelled close still closes ---------------------------------------------


def store_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("soni-confirmations")}


async def test_a_cancelled_close_still_releases_the_connection_and_its_thread(
    tmp_path: Path,
) -> None:
    others = store_threads()
    store = SqliteConfirmationStore(tmp_path / "closing.db")
    assert await store.count() == 0
    workers = store_threads() - others
    assert workers, "the store's worker thread was not found"

    started = await next_write_starts(store)
    with write_lock_held(store.path) as lock:
        purging = asyncio.create_task(store.purge(datetime.now(UTC)))
        await waits_for_lock(started)
        closing = asyncio.create_task(store.close())
        done, _ = await asyncio.wait({closing}, timeout=0.05)
        assert not done  # close waits for the write in progress
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        lock.release()
        assert await asyncio.wait_for(purging, 5) == 0  # the write in progress finishes

    await asyncio.wait_for(store.close(), 2)
    with pytest.raises(StoreClosed):
        await store.count()
    for worker in workers:
        await asyncio.to_thread(worker.join, 5)
    assert not any(worker.is_alive() for worker in workers)


# -- 6. a full database says so ----------------------------------------------------


@SQLITE_ONLY
async def test_a_full_database_reports_that_it_is_full_and_stays_usable(
    registry: ConfirmationRegistry,
) -> None:
    store = registry.store
    assert isinstance(store, SqliteConfirmationStore)
    await register_transfer(registry)
    pages = await store._run(lambda conn: conn.execute("PRAGMA page_count").fetchone()[0])
    await store._run(lambda conn: conn.execute(f"PRAGMA max_page_count={pages + 2}").fetchone())

    with pytest.raises(sqlite3.Error) as caught:
        await registry.register(
            conversation_id="conv-2", actions=[("transfer", {})], prompt="x" * 1_000_000
        )

    assert "full" in str(caught.value)
    assert "rollback" not in str(caught.value)
    record, token = await register_transfer(registry, conversation_id="conv-3")
    assert (await registry.get(token)).status is Status.PENDING
    assert [r.conversation_id for r in await registry.list()] == ["conv-1", "conv-3"]
    assert transitions(await registry.history(record.id)) == [(None, Status.PENDING)]


# -- 7. the sweeper ----------------------------------------------------------------


class SlowPurgeStore(MemoryConfirmationStore):
    """A store whose purge waits to be released, and still finishes when cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.purging = asyncio.Event()
        self.release = asyncio.Event()

    async def purge(self, before: datetime) -> int:
        self.purging.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            await self.release.wait()  # winding down takes a moment
            raise
        return await super().purge(before)


@MEMORY_ONLY
async def test_a_caller_cancelled_while_stopping_the_sweeper_is_cancelled(
    make_registry: RegistryFactory,
) -> None:
    store = SlowPurgeStore()
    registry = make_registry(store=store)
    sweeper = ExpirySweeper(registry, interval=0.01, purge_every=1)
    sweeper.start()
    try:
        await asyncio.wait_for(store.purging.wait(), 5)
        stopping = asyncio.create_task(sweeper.stop())
        done, _ = await asyncio.wait({stopping}, timeout=0.05)
        assert not done  # stop waits for the sweep in progress

        stopping.cancel()
        store.release.set()
        await asyncio.wait({stopping}, timeout=5)

        assert stopping.done()
        assert stopping.cancelled()
        assert not sweeper.running
    finally:
        store.release.set()
        await sweeper.stop()


async def test_the_sweeper_ends_by_itself_once_the_store_is_closed(
    registry: ConfirmationRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    sweeper = ExpirySweeper(registry, interval=0.01)
    with caplog.at_level(logging.INFO, logger="soni.confirmations"):
        sweeper.start()
        try:
            await registry.aclose()
            assert await eventually(lambda: not sweeper.running)
        finally:
            await sweeper.stop()

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# -- 8. a withdrawal that comes too late is an expiry ------------------------------


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


# -- 9. events carry the status the transition really left -------------------------


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


# -- 11. a result JSON cannot hold ---------------------------------------------------


async def test_a_result_that_cannot_be_serialised_still_closes_the_execution(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    assert (await registry.begin_execution(token)).should_run
    result: dict[str, Any] = {"transfer_id": "T-1"}
    result["itself"] = result

    recorded = await registry.record_result(token, result)

    assert recorded.status is Status.EXECUTED
    assert recorded.result  # a placeholder that says why the result is missing
    assert recorded.error is None
    stored = await registry.get(token)
    assert stored.status is Status.EXECUTED
    assert stored.result == recorded.result
    later = await registry.begin_execution(token)
    assert later.should_run is False
    assert later.confirmation.status is Status.EXECUTED
