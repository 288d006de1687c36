"""The PostgreSQL store: processes racing, sweepers sharing the work, schema versions.

Every test here has a database of its own (``postgres_database``); the registry and
store tests shared with the other backends run on it too (``conftest.STORE_KINDS``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

import soni.confirmations.stores.postgres as postgres_module
from soni.confirmations import (
    ActionCall,
    Actor,
    ConfirmationRegistry,
    PendingConfirmation,
    PostgresConfirmationStore,
    Status,
)
from soni.confirmations.records import SYSTEM, Expired
from soni.confirmations.stores._postgres_schema import SCHEMA
from soni.confirmations.tokens import hash_token, new_confirmation_id, new_token
from soni.errors import StoreClosed

from ._pool import open_pool
from ._postgres_worker import race
from .conftest import FakeClock, RegistryFactory, register_transfer, transitions

T = TypeVar("T")

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.postgres  # every test, through the store_kind fixed below


@pytest.fixture
def store_kind() -> str:
    return "postgres"


@pytest.fixture
async def store(postgres_pool: AsyncConnectionPool[Any]) -> PostgresConfirmationStore:
    return PostgresConfirmationStore(postgres_pool)


def records(count: int, *, expires_in: timedelta, now: datetime = NOW) -> list[PendingConfirmation]:
    return [
        PendingConfirmation(
            id=new_confirmation_id(),
            token_hash=hash_token(new_token()),
            conversation_id=f"conv-{i}",
            user_id=f"user-{i % 7}",
            kind="single",
            actions=(ActionCall("transfer", {"amount": i}),),
            prompt="Send?",
            created_at=now,
            expires_at=now + expires_in,
            key=f"conv-{i}:step-1",
            updated_at=now,
        )
        for i in range(count)
    ]


async def insert_all(store: PostgresConfirmationStore, batch: list[PendingConfirmation]) -> None:
    """Add every record of ``batch``, several at a time on the store's pool."""
    added = await asyncio.gather(*(store.insert(record) for record in batch))
    assert all(added)


# -- processes racing on one database -------------------------------------------------


async def test_processes_deciding_at_once_record_exactly_one_decision(
    make_registry: RegistryFactory, postgres_database: str
) -> None:
    registry = make_registry(clock=None)  # the workers use the real clock
    record, token = await register_transfer(registry, ttl=600)
    decisions = ["approve", "skip", random.choice(["approve", "skip"]), "approve"]
    random.shuffle(decisions)

    reports = await asyncio.to_thread(
        race,
        [["decide", postgres_database, token, d, str(w)] for w, d in enumerate(decisions)],
    )

    final = await registry.get(token)
    recorded = [e for e in await registry.history(record.id) if e.to_status in DECIDED_STATUSES]
    assert len(recorded) == 1, recorded
    winners = [w for w, r in enumerate(reports) if r["outcome"].startswith("decided:")]
    assert len(winners) == 1, reports
    (winner,) = winners
    assert final.decided_by == Actor(f"worker-{winner}", "cli") == recorded[0].actor
    assert (decisions[winner] == "skip") == (final.status is Status.SKIPPED)
    for worker, (decision, report) in enumerate(zip(decisions, reports, strict=True)):
        # Every process sees the winner, whatever it tried.
        assert report["seen"]["status"] == final.status.value
        assert report["seen"]["decided_by"] == [f"worker-{winner}", "cli"]
        if worker != winner:
            agrees = (decision == "skip") == (final.status is Status.SKIPPED)
            assert report["outcome"] == ("same" if agrees else f"already:{final.status}")


DECIDED_STATUSES = {Status.APPROVED, Status.SKIPPED}


async def test_processes_beginning_execution_let_exactly_one_run(
    make_registry: RegistryFactory, postgres_database: str
) -> None:
    registry = make_registry(clock=None)
    record, token = await register_transfer(registry, ttl=600)
    await registry.decide(token, "approve")

    reports = await asyncio.to_thread(race, [["begin", postgres_database, token]] * 4)

    assert sum(r["should_run"] for r in reports) == 1, reports
    runners = {r["record"]["runner"] for r in reports}
    assert len(runners) == 1 and None not in runners  # all see the one claim
    assert all(r["record"]["status"] == "executing" for r in reports)
    assert [e.to_status for e in await registry.history(record.id)].count(Status.EXECUTING) == 1


async def test_processes_setting_up_a_fresh_database_at_once_all_succeed(
    postgres_database: str,
) -> None:
    reports = await asyncio.to_thread(race, [["setup", postgres_database]] * 4)

    # One of them created each schema, under the lock; the others found it there.
    assert sorted(r["store_found"] for r in reports) == [0, 1, 1, 1]
    assert sorted(r["journal_found"] for r in reports) == [0, 1, 1, 1]
    async with open_pool(postgres_database) as pool:
        store = PostgresConfirmationStore(pool)
        assert await store.schema_version() == SCHEMA.version
        assert await store.counts() == {"confirmations": 0, "confirmation_history": 0}


# -- sweepers sharing the work ----------------------------------------------------------


async def test_four_sweepers_at_once_expire_every_record_exactly_once(
    postgres_database: str,
) -> None:
    async with open_pool(postgres_database) as setup_pool:
        await PostgresConfirmationStore(setup_pool).setup()
        await insert_all(
            PostgresConfirmationStore(setup_pool), records(2_000, expires_in=timedelta(minutes=5))
        )
    later = NOW + timedelta(hours=1)
    ready = [asyncio.Event() for _ in range(4)]
    start = asyncio.Event()

    async def sweep(worker: int) -> list[Expired]:
        # A worker process of its own: its pool, its store, its registry.
        async with open_pool(postgres_database, max_size=2) as pool:
            registry = ConfirmationRegistry(PostgresConfirmationStore(pool))
            swept: list[Expired] = []
            await registry.store.query(limit=1)  # connected before the start
            ready[worker].set()
            await start.wait()
            while batch := await registry.store.expire_due(later, SYSTEM, limit=50):
                swept += batch
            await registry.aclose()
            return swept

    sweepers = [asyncio.create_task(sweep(worker)) for worker in range(4)]
    await asyncio.gather(*(event.wait() for event in ready))
    start.set()
    results = await asyncio.gather(*sweepers)

    ids = [expired.id for swept in results for expired in swept]
    assert len(ids) == len(set(ids)) == 2_000  # disjoint, and together complete
    assert all(e.from_status is Status.PENDING for swept in results for e in swept)
    assert sum(1 for swept in results if swept) >= 2, [len(s) for s in results]
    async with open_pool(postgres_database) as pool:
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT count(*), count(DISTINCT confirmation_id) FROM confirmation_history"
                " WHERE to_status = 'expired'"
            )
            assert await cursor.fetchone() == (2_000, 2_000)
        assert await PostgresConfirmationStore(pool).count([Status.EXPIRED]) == 2_000


async def test_a_sweep_skips_a_record_another_holds_instead_of_waiting(
    store: PostgresConfirmationStore, postgres_database: str
) -> None:
    due = records(5, expires_in=timedelta(minutes=-1))
    await insert_all(store, due)
    held = due[0].id

    other = await psycopg.AsyncConnection.connect(postgres_database)
    async with other, other.transaction():
        await other.execute("SELECT 1 FROM confirmations WHERE id = %s FOR UPDATE", (held,))
        # Bounded: a sweep that waited for the lock would hang here, not fail.
        swept = await asyncio.wait_for(store.expire_due(NOW, SYSTEM), 10)
        assert sorted(e.id for e in swept) == sorted(r.id for r in due[1:])

    [last] = await store.expire_due(NOW, SYSTEM)
    assert last.id == held


async def test_a_sweep_leaves_out_a_record_decided_while_it_ran(
    make_registry: RegistryFactory, clock: FakeClock
) -> None:
    registry = make_registry()
    _, token = await register_transfer(registry, ttl=60)
    clock.advance(30)
    await registry.decide(token, "approve")
    clock.advance(60)

    assert await registry.cleanup_expired() == 0
    assert (await registry.get(token)).status is Status.APPROVED


# -- purging -------------------------------------------------------------------------


async def test_a_purge_deletes_old_closed_records_with_their_history_in_batches(
    postgres_pool: AsyncConnectionPool[Any],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = PostgresConfirmationStore(postgres_pool, purge_batch=7)
    registry = ConfirmationRegistry(store, clock=clock, retention=timedelta(days=1))
    old = [await register_transfer(registry, conversation_id=f"old-{i}") for i in range(30)]
    for _, token in old:
        await registry.decide(token, "skip")
    still_open, _ = await register_transfer(registry, conversation_id="open", ttl=10 * 86400)
    clock.advance(days=2)
    recent, recent_token = await register_transfer(registry, conversation_id="recent")
    await registry.decide(recent_token, "skip")
    batches = count_calls(store, monkeypatch)

    assert await registry.purge() == 30

    assert len(batches) == 5  # 7 + 7 + 7 + 7 + 2
    assert {r.id for r in await registry.list()} == {still_open.id, recent.id}
    assert await store.history(old[0][0].id) == []
    assert len(await store.history(recent.id)) == 2
    assert await store.counts() == {"confirmations": 2, "confirmation_history": 3}
    assert await registry.purge() == 0
    await registry.aclose()


async def test_only_writes_safe_to_lose_skip_their_flush(
    store: PostgresConfirmationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering and recording an outcome are not flushed alone; decisions are."""
    registry = ConfirmationRegistry(store)
    statements = record_statements(store, monkeypatch)

    def flushes_off() -> list[bool]:
        relaxed = ["synchronous_commit" in sql for sql in statements]
        statements.clear()
        return relaxed

    _, token = await register_transfer(registry)
    assert flushes_off() == [True]  # lost, the user is asked again
    await registry.mark_shown(token)
    await registry.decide(token, "approve")
    await registry.begin_execution(token)
    await registry.cleanup_expired()
    assert not any(flushes_off())  # a decision, a claim to run: flushed before they return
    await registry.record_result(token, {"ok": True})
    assert flushes_off() == [False, True]  # the look-up, then the outcome
    async with store.pool.connection() as conn:
        cursor = await conn.execute("SHOW synchronous_commit")
        assert await cursor.fetchone() == ("on",)  # nothing outlived its statement


class _Recording:
    """A cursor that notes the SQL it runs."""

    def __init__(self, cursor: Any, statements: list[str]) -> None:
        self._cursor = cursor
        self._statements = statements

    async def execute(self, sql: str, params: Any = None) -> Any:
        self._statements.append(sql)
        return await self._cursor.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def record_statements(
    store: PostgresConfirmationStore, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The SQL of every statement the store runs from now on."""
    statements: list[str] = []
    run = store._on.run

    async def recorded(work: Callable[[Any], Awaitable[T]]) -> T:
        return await run(lambda cursor: work(_Recording(cursor, statements)))

    monkeypatch.setattr(store._on, "run", recorded)
    return statements


def count_calls(store: PostgresConfirmationStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each statement run the store makes on its pool from now on."""
    calls: list[int] = []
    run = store._on.run

    async def counted(work: Callable[[Any], Awaitable[T]]) -> T:
        calls.append(1)
        return await run(work)

    monkeypatch.setattr(store._on, "run", counted)
    return calls


# -- the schema ------------------------------------------------------------------------


async def test_setup_is_idempotent_and_records_its_version(
    store: PostgresConfirmationStore,
) -> None:
    # The fixture set it up once already.
    assert await store.setup() == SCHEMA.version
    assert await store.setup() == SCHEMA.version
    assert await store.schema_version() == SCHEMA.version
    assert await store.counts() == {"confirmations": 0, "confirmation_history": 0}


async def test_a_database_of_an_older_version_is_upgraded(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_pool(postgres_database) as pool:
        older = PostgresConfirmationStore(pool)
        await older.setup()
        registry = ConfirmationRegistry(older)
        _, token = await register_transfer(registry)
        # The next soni adds a column; its migration from version 1 says how.
        newer = dataclasses.replace(
            SCHEMA,
            version=SCHEMA.version + 1,
            migrations={
                **SCHEMA.migrations,
                SCHEMA.version: ("ALTER TABLE confirmations ADD COLUMN note text",),
            },
        )
        monkeypatch.setattr(postgres_module, "SCHEMA", newer)
        upgraded = PostgresConfirmationStore(pool)

        assert await upgraded.setup() == SCHEMA.version
        assert await upgraded.schema_version() == SCHEMA.version + 1
        assert await upgraded.setup() == SCHEMA.version + 1  # nothing left to do
        async with pool.connection() as conn:
            await conn.execute("SELECT note FROM confirmations")  # the column is there
        assert (await registry.get(token)).status is Status.PENDING  # and the records
        await registry.aclose()


async def test_a_database_written_by_a_newer_soni_is_refused_with_a_clear_error(
    store: PostgresConfirmationStore,
) -> None:
    async with store.pool.connection() as conn:
        await conn.execute("UPDATE soni_schema SET version = 99 WHERE component = 'confirmations'")

    with pytest.raises(RuntimeError, match="schema version 99, written by a newer soni"):
        await store.setup()
    assert await store.schema_version() == 99  # left as it was


# -- what the pool may be ----------------------------------------------------------------


async def test_a_pool_of_dict_rows_shared_with_langgraph_works(postgres_database: str) -> None:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        postgres_database, min_size=1, max_size=2, open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )  # fmt: skip
    async with pool:
        store = PostgresConfirmationStore(pool)
        await store.setup()
        registry = ConfirmationRegistry(store)
        record, token = await register_transfer(registry)
        assert (await registry.decide(token, "approve")).status is Status.APPROVED
        assert transitions(await registry.history(record.id))[-1] == (
            Status.PENDING,
            Status.APPROVED,
        )
        await registry.aclose()


async def test_a_pool_without_autocommit_is_refused_before_anything_is_lost(
    postgres_database: str,
) -> None:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        postgres_database, min_size=1, max_size=1, open=False
    )
    async with pool:
        with pytest.raises(RuntimeError, match="autocommit"):
            await PostgresConfirmationStore(pool).setup()


async def test_times_come_back_in_utc_whatever_the_session_time_zone(
    postgres_database: str, clock: FakeClock
) -> None:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        postgres_database, min_size=1, max_size=1, open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "options": "-c TimeZone=Asia/Tokyo"},
    )  # fmt: skip
    async with pool:
        store = PostgresConfirmationStore(pool)
        await store.setup()
        registry = ConfirmationRegistry(store, clock=clock)
        record, token = await register_transfer(registry)
        decided = await registry.decide(token, "approve")

        assert (await registry.get(token)) == decided
        assert decided.created_at == record.created_at == clock()
        for moment in (decided.created_at, decided.expires_at, decided.decided_at):
            assert moment is not None and moment.tzinfo is UTC
        assert all(e.at.tzinfo is UTC for e in await registry.history(record.id))
        await registry.aclose()


async def test_arguments_and_results_come_back_exactly_as_given(
    make_registry: RegistryFactory,
) -> None:
    registry = make_registry()
    args = {"zeta": 1, "alpha": "a\u0000b", "price": 1.10, "big": 2**62, "nested": {"b": [1.5]}}
    record, token = await registry.register(
        conversation_id="c", actions=[("pay", args)], prompt="Pay?"
    )
    await registry.decide(token, "approve")
    await registry.begin_execution(token)
    await registry.record_result(token, {"note": "\u0000", "amount": 0.1})

    stored = await registry.get(token)
    assert stored.actions == record.actions
    assert stored.actions_json() == record.actions_json()
    assert stored.result == {"note": "\u0000", "amount": 0.1}


async def test_closing_the_store_leaves_the_pool_to_its_owner(
    postgres_pool: AsyncConnectionPool[Any],
) -> None:
    store = PostgresConfirmationStore(postgres_pool)
    await store.close()
    await store.close()

    with pytest.raises(StoreClosed):
        await store.get("anything")
    assert not postgres_pool.closed
    assert await PostgresConfirmationStore(postgres_pool).count() == 0
