"""The SQLite store when its caller is cancelled in the middle of a write.

Each test stages the race SQLite makes possible between two processes: another
connection holds the database's write lock, so the store's worker thread waits in
``BEGIN IMMEDIATE``; the caller is cancelled while it waits; then the lock is let go
and the change lands after all (or loses to a rival's). What must follow a change
still follows it, a cancelled register leaves its token right, and a cancelled close
still closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from soni.confirmations import (
    ConfirmationRegistry,
    PendingConfirmation,
    SqliteConfirmationStore,
    Status,
)
from soni.confirmations.errors import UnknownConfirmation
from soni.errors import StoreClosed

from .conftest import (
    RegistryFactory,
    moves,
    record_events,
    register_transfer,
    transitions,
)

SQLITE_ONLY = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)

# How long a follow-up (an event, a woken waiter) may take once the change landed.
# Where a test sets poll_interval=30, only an in-process wake-up can be this quick.
PROMPTLY = 2.0


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


# -- a cancelled caller does not split a change from what must follow it ------------


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


# -- a cancelled register -------------------------------------------------------------


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
    announced = asyncio.Event()
    registry.subscribe(lambda event: announced.set())

    record_id = await register_cancelled_mid_insert(registry, store, let_go)

    assert await store.get(record_id) is not None
    await asyncio.wait_for(announced.wait(), PROMPTLY)
    assert [e.confirmation_id for e in events] == [record_id]
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


# -- a cancelled close still closes ---------------------------------------------------


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
