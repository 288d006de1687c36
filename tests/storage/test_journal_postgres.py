"""The action journal on PostgreSQL: one claim wins across tasks, threads and processes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
from psycopg_pool import AsyncConnectionPool

from soni.errors import StoreClosed
from soni.storage.journal import RETENTION, JournalEntry, PostgresActionJournal, run_key

from ..confirmations._pool import open_pool
from ..confirmations._postgres_worker import race

T = TypeVar("T")

KEY = run_key("c:f1:look_up:3:2", {"item": "pen"})


@pytest.fixture
async def pool(postgres_database: str) -> AsyncIterator[AsyncConnectionPool[Any]]:
    async with open_pool(postgres_database) as pool:
        yield pool


@pytest.fixture
async def journal(pool: AsyncConnectionPool[Any]) -> AsyncIterator[PostgresActionJournal]:
    journal = PostgresActionJournal(pool)
    await journal.setup()
    yield journal
    await journal.close()


# -- claims --------------------------------------------------------------------------


async def test_a_claim_is_granted_once_and_then_hands_back_the_outcome(
    journal: PostgresActionJournal,
) -> None:
    claims = await asyncio.gather(*(journal.claim(KEY, "r1") for _ in range(20)))
    assert claims.count(None) == 1
    assert {c for c in claims if c is not None} == {JournalEntry("running", runner="r1")}

    await journal.finish(KEY, result={"price": 12.5})
    assert await journal.claim(KEY, "r2") == JournalEntry("done", {"price": 12.5})

    failed = run_key("c:f1:look_up:4:2", {"item": "pen"})
    assert await journal.claim(failed, "r1") is None
    await journal.finish(failed, error="ActionFailed: boom")
    assert await journal.claim(failed, "r2") == JournalEntry("failed", error="ActionFailed: boom")


async def test_threads_each_on_its_own_event_loop_claiming_at_once_get_one_claim(
    journal: PostgresActionJournal,
) -> None:
    barrier = threading.Barrier(8)
    claims: list[JournalEntry | BaseException | None] = [RuntimeError("no answer")] * 8

    def claim(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            claims[index] = asyncio.run(journal.claim(KEY, f"r{index}"))
        except BaseException as exc:
            claims[index] = exc

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    # Joined off the loop: the threads' calls are handed to it, so it must run.
    for thread in threads:
        await asyncio.to_thread(thread.join, 60)

    assert claims.count(None) == 1
    winner = next(f"r{i}" for i, c in enumerate(claims) if c is None)
    assert {c for c in claims if c is not None} == {JournalEntry("running", runner=winner)}


async def test_processes_claiming_at_once_get_one_claim(
    journal: PostgresActionJournal, postgres_database: str
) -> None:
    reports = await asyncio.to_thread(
        race, [["claim", postgres_database, KEY, str(w)] for w in range(4)]
    )

    assert [r["claim"] for r in reports].count(None) == 1, reports
    assert {r["claim"] for r in reports} == {None, "running"}
    winner = next(w for w, r in enumerate(reports) if r["claim"] is None)
    assert await journal.claim(KEY, "me") == JournalEntry("running", runner=f"worker-{winner}")


# -- swaps ---------------------------------------------------------------------------


async def test_a_run_of_a_gone_runner_is_taken_over_by_exactly_one_caller(
    journal: PostgresActionJournal,
) -> None:
    assert await journal.claim(KEY, "gone") is None
    seen = await journal.claim(KEY, "me")
    assert seen == JournalEntry("running", runner="gone")

    taken = await asyncio.gather(*(journal.reclaim(KEY, seen, f"r{i}") for i in range(10)))

    assert taken.count(True) == 1
    winner = f"r{taken.index(True)}"
    assert await journal.claim(KEY, "me") == JournalEntry("running", runner=winner)
    # Who read the entry before the take-over changes nothing with what it saw.
    assert not await journal.reclaim(KEY, seen, "late")
    await journal.mark_unknown(KEY, seen)
    assert await journal.claim(KEY, "me") == JournalEntry("running", runner=winner)


async def test_an_unknown_outcome_is_recorded_once_and_can_be_taken_over_once(
    journal: PostgresActionJournal,
) -> None:
    assert await journal.claim(KEY, "gone") is None
    seen = JournalEntry("running", runner="gone")

    await journal.mark_unknown(KEY, seen)

    unknown = await journal.claim(KEY, "me")
    assert unknown == JournalEntry("unknown", runner="gone")
    assert await journal.reclaim(KEY, unknown, "r1")
    assert not await journal.reclaim(KEY, unknown, "r2")
    await journal.finish(KEY, result={"ok": True})
    assert await journal.claim(KEY, "me") == JournalEntry("done", {"ok": True})


# -- generations ---------------------------------------------------------------------


async def test_generations_count_each_conversations_resets(
    journal: PostgresActionJournal,
) -> None:
    assert await journal.generation("c1") == 0
    assert await journal.next_generation("c1") == 1
    assert await journal.next_generation("c1") == 2

    counted = await asyncio.gather(*(journal.next_generation("c1") for _ in range(10)))

    assert sorted(counted) == list(range(3, 13))  # each reset counted once
    assert await journal.generation("c1") == 12
    assert await journal.generation("c2") == 0


# -- purging -------------------------------------------------------------------------


async def test_a_purge_deletes_only_old_entries_in_batches_with_rests_between(
    pool: AsyncConnectionPool[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = PostgresActionJournal(pool, purge_batch=100)
    await journal.setup()
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO soni_action_runs (key, status, result, updated_at)"
            " SELECT 'old-' || n, 'done', '{}', now() - interval '8 days' * (1 + n / 1000.0)"
            " FROM generate_series(1, 1050) AS n"
        )
    for fresh in ("a", "b", "c"):
        assert await journal.claim(fresh, "r1") is None
    batches = count_runs(journal, monkeypatch)
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(journal, "_pause", pause)

    assert await journal.purge(time.time() - RETENTION) == 1050

    assert len(batches) == 11  # ten full batches of 100, and the last of 50
    assert len(pauses) == 10  # a rest after each full batch, as long as twice the batch
    assert all(seconds > 0 for seconds in pauses)
    assert await journal.counts() == {"soni_action_runs": 3, "soni_conversation_generations": 0}
    assert await journal.claim("a", "r2") == JournalEntry("running", runner="r1")
    assert await journal.purge(time.time() - RETENTION) == 0


def count_runs(journal: PostgresActionJournal, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each trip the journal makes to its pool from now on."""
    calls: list[int] = []
    run = journal._on.run

    async def counted(work: Callable[[Any], Awaitable[T]]) -> T:
        calls.append(1)
        return await run(work)

    monkeypatch.setattr(journal._on, "run", counted)
    return calls


# -- schema and life -----------------------------------------------------------------


async def test_setup_is_idempotent_and_a_newer_schema_is_refused(
    journal: PostgresActionJournal, pool: AsyncConnectionPool[Any]
) -> None:
    assert await journal.setup() == 1
    assert await journal.schema_version() == 1
    async with pool.connection() as conn:
        await conn.execute("UPDATE soni_schema SET version = 7 WHERE component = 'journal'")

    with pytest.raises(RuntimeError, match="journal at schema version 7, written by a newer soni"):
        await journal.setup()


async def test_a_closed_journal_refuses_calls_and_leaves_the_pool_open(
    journal: PostgresActionJournal, pool: AsyncConnectionPool[Any]
) -> None:
    await journal.close()

    with pytest.raises(StoreClosed, match="the action journal is closed"):
        await journal.claim(KEY, "r1")
    with pytest.raises(StoreClosed):
        await journal.purge(time.time())
    assert not pool.closed
    assert await PostgresActionJournal(pool).claim(KEY, "r1") is None


async def test_every_journal_write_skips_its_flush(
    journal: PostgresActionJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the SQLite journal's ``synchronous=NORMAL``: it survives a crash of soni."""
    statements: list[str] = []
    run = journal._on.run

    class Recording:
        def __init__(self, cursor: Any) -> None:
            self._cursor = cursor

        async def execute(self, sql: str, params: Any = None) -> Any:
            statements.append(sql)
            return await self._cursor.execute(sql, params)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._cursor, name)

    async def recorded(work: Callable[[Any], Awaitable[T]]) -> T:
        return await run(lambda cursor: work(Recording(cursor)))

    monkeypatch.setattr(journal._on, "run", recorded)

    assert await journal.claim(KEY, "gone") is None
    await journal.mark_unknown(KEY, JournalEntry("running", runner="gone"))
    assert await journal.reclaim(KEY, JournalEntry("unknown", runner="gone"), "r1")
    await journal.finish(KEY, result={"ok": True})
    await journal.next_generation("c1")
    await journal.purge(time.time() - RETENTION)

    assert len(statements) == 6
    assert all("synchronous_commit" in sql for sql in statements)
