# ruff: noqa: E402
"""How the confirmation stores hold up as records accumulate and callers multiply.

For 1,000 and 100,000 pending records in one SQLite file: the latency of
``register`` and ``decide`` (median and p90 of repeated calls), next to a floor
measured in the same run — the same SQL transaction issued directly with
``sqlite3`` (same file settings, no soni) — and the ratio 100k / 1k. Then the time
to expire 100,000 records, next to a bare ``UPDATE`` of as many rows, and the bytes
each record takes on disk (with its history).

Last, throughput with 1 and 8 concurrent tasks, SQLite next to PostgreSQL:
decisions per second through the registry (a look-up by token, then the
compare-and-set) and transitions per second straight on the store (the
compare-and-set with its history row). PostgreSQL runs in a throwaway database on
the server at ``--postgres`` (default ``$SONI_BENCH_POSTGRES``, else the local one
as ``postgres``); without a reachable server that column is skipped, with a line
saying why.

Run: ``make bench`` or ``python bench/confirmations.py [--large 100000]``.
"""

from __future__ import annotations

# This folder holds http.py (the HTTP benchmark): run as a script, it would shadow
# the standard library's http package. Keep the folder, but after the library.
import sys  # isort: skip
from pathlib import Path  # isort: skip

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from _harness import banner, per_second, row
from _postgres import throwaway_database, unreachable
from soni.confirmations import (
    ActionCall,
    Actor,
    ConfirmationRegistry,
    ConfirmationStore,
    PendingConfirmation,
    SqliteConfirmationStore,
    Status,
)
from soni.confirmations.lifecycle import APPROVE
from soni.confirmations.stores import Change
from soni.confirmations.tokens import hash_token, new_confirmation_id, new_token

SAMPLES = 300
POSTGRES = os.environ.get("SONI_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _records(first: int, count: int, now: datetime, ttl: timedelta) -> list[PendingConfirmation]:
    call = (ActionCall("execute_transfer", {"amount": 50, "iban": "DE89370400440532013000"}),)
    return [
        PendingConfirmation(
            id=new_confirmation_id(),
            token_hash=hash_token(new_token()),
            conversation_id=f"conv-{i}",
            user_id=f"user-{i % 1000}",
            kind="single",
            actions=call,
            prompt="Send 50 EUR to DE89370400440532013000?",
            created_at=now,
            expires_at=now + ttl,
            status=Status.PENDING,
            key=f"conv-{i}:transfer:confirm",
            updated_at=now,
        )
        for i in range(first, first + count)
    ]


async def _filled(path: Path, count: int, clock: Clock) -> ConfirmationRegistry:
    store = SqliteConfirmationStore(path)
    registry = ConfirmationRegistry(store, clock=clock)
    await store.count()  # the store creates its schema
    _insert_all(path, _records(0, count, clock.now, timedelta(hours=1)))
    return registry


def _insert_all(path: Path, records: list[PendingConfirmation]) -> None:
    """Write ``records`` into the store's file in one transaction, in the store's own
    rows: 100,000 take seconds, where one ``insert`` (and one fsync) each would take
    minutes. Only the set-up of a large store; nothing timed goes through here."""
    from soni.confirmations.records import SYSTEM
    from soni.confirmations.stores._sqlite_schema import INSERT, INSERT_HISTORY, micros, to_row

    history = [
        (r.id, None, r.status.value, SYSTEM.user_id, SYSTEM.channel, micros(r.created_at))
        for r in records
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, [to_row(r) for r in records])
        conn.executemany(INSERT_HISTORY, history)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _quantiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=10)
    return statistics.median(samples), cuts[8]


async def _latencies(registry: ConfirmationRegistry, tag: str) -> dict[str, list[float]]:
    register: list[float] = []
    decide: list[float] = []
    tokens: list[str] = []
    for i in range(SAMPLES):
        start = time.perf_counter()
        _, token = await registry.register(
            conversation_id=f"bench-{tag}-{i}",
            user_id="bench",
            actions=[("execute_transfer", {"amount": 50, "iban": "DE89370400440532013000"})],
            prompt="Send 50 EUR?",
            key=f"bench-{tag}-{i}:transfer:confirm",
        )
        register.append(time.perf_counter() - start)
        tokens.append(token)
    for token in tokens:
        start = time.perf_counter()
        await registry.decide(token, "approve", actor="bench", channel="http")
        decide.append(time.perf_counter() - start)
    return {"register": register, "decide": decide}


def _bare(path: Path) -> dict[str, list[float]]:
    """The same writes issued straight through sqlite3, on the same file."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    insert: list[float] = []
    update: list[float] = []
    ids = [uuid.uuid4().hex for _ in range(SAMPLES)]
    now = int(time.time() * 1e6)
    for cid in ids:
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO confirmations (id, token_hash, idempotency_key, conversation_id,"
            " user_id, kind, actions, prompt, created_at, expires_at, status, updated_at)"
            " VALUES (?, ?, ?, ?, 'bench', 'single', '[]', 'p', ?, ?, 'pending', ?)",
            (cid, cid + "h", cid + "k", cid, now, now + 3_600_000_000, now),
        )
        conn.execute(
            "INSERT INTO confirmation_history (confirmation_id, to_status, actor_channel, at)"
            " VALUES (?, 'pending', 'system', ?)",
            (cid, now),
        )
        conn.execute("COMMIT")
        insert.append(time.perf_counter() - start)
    for cid in ids:
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT status, expires_at FROM confirmations WHERE id = ?", (cid,)).fetchone()
        conn.execute(
            "UPDATE confirmations SET status = 'approved', updated_at = ? WHERE id = ?", (now, cid)
        )
        conn.execute(
            "INSERT INTO confirmation_history (confirmation_id, from_status, to_status,"
            " actor_channel, at) VALUES (?, 'pending', 'approved', 'http', ?)",
            (cid, now),
        )
        conn.execute("COMMIT")
        update.append(time.perf_counter() - start)
    conn.close()
    return {"register": insert, "decide": update}


def _disk_bytes(path: Path) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    conn.close()
    return int((pages - free) * size)


# -- throughput: 1 and 8 tasks, SQLite and PostgreSQL ------------------------------

StoreFactory = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


async def _together(
    tasks: int, items: Sequence[Any], work: Callable[[Any], Awaitable[Any]]
) -> float:
    """Seconds for ``tasks`` concurrent tasks to run ``work`` over ``items`` (split evenly)."""

    async def one(share: Sequence[Any]) -> None:
        for item in share:
            await work(item)

    start = time.perf_counter()
    await asyncio.gather(*(one(items[i::tasks]) for i in range(tasks)))
    return time.perf_counter() - start


async def _rates(stores: StoreFactory, tasks: int, count: int) -> dict[str, float]:
    """Decisions/s through a registry, and store transitions/s, with ``tasks`` callers."""
    async with stores() as store:
        registry = ConfirmationRegistry(store)
        tokens = [
            (
                await registry.register(
                    conversation_id=f"rate-{i}",
                    actions=[("execute_transfer", {"amount": 50})],
                    prompt="Send 50 EUR?",
                    ttl=3600,
                )
            )[1]
            for i in range(count)
        ]
        decided = await _together(
            tasks, tokens, lambda token: registry.decide(token, "approve", actor="bench")
        )

        now = datetime.now(UTC)
        records = _records(10**9, count, now, timedelta(hours=1))
        await _together(tasks, records, store.insert)
        change = Change(APPROVE, now, Actor("bench", "http"), decided=True)
        changed = await _together(
            tasks, records, lambda record: store.transition(record.id, change)
        )
        assert await store.count([Status.APPROVED]) == 2 * count
        rates = {"decide": per_second(count, decided), "transition": per_second(count, changed)}
        if hasattr(store, "pool"):  # PostgreSQL: the floor, on the same pool
            records = _records(2 * 10**9, count, now, timedelta(hours=1))
            await _together(tasks, records, store.insert)
            bare = await _together(tasks, [r.id for r in records], _bare_transition(store.pool))
            rates["bare"] = per_second(count, bare)
    return rates


_BARE_TRANSITION = """
WITH changed AS (
    UPDATE confirmations SET status = 'approved', updated_at = now()
    WHERE id = %s AND status IN ('pending', 'shown') RETURNING id
)
INSERT INTO confirmation_history
    (confirmation_id, from_status, to_status, actor_user, actor_channel, at)
SELECT id, 'pending', 'approved', 'bench', 'http', now() FROM changed
"""


def _bare_transition(pool: Any) -> Callable[[str], Awaitable[None]]:
    """A compare-and-set with its history row issued straight through psycopg: no soni."""

    async def transition(confirmation_id: str) -> None:
        async with pool.connection() as conn:
            await conn.execute(_BARE_TRANSITION, (confirmation_id,))

    return transition


def _sqlite_stores(folder: Path) -> StoreFactory:
    @contextlib.asynccontextmanager
    async def stores() -> AsyncIterator[ConfirmationStore]:
        store = SqliteConfirmationStore(Path(folder) / f"rates-{uuid.uuid4().hex}.db")
        try:
            yield store
        finally:
            await store.close()

    return stores


def _postgres_stores(server: str, connections: int) -> StoreFactory:
    from psycopg_pool import AsyncConnectionPool

    from soni.confirmations import PostgresConfirmationStore

    @contextlib.asynccontextmanager
    async def stores() -> AsyncIterator[ConfirmationStore]:
        with throwaway_database(server) as url:
            pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                url, min_size=connections, max_size=connections, open=False,
                kwargs={"autocommit": True, "prepare_threshold": 0},
            )  # fmt: skip
            async with pool:
                await pool.wait()
                store = PostgresConfirmationStore(pool)
                await store.setup()
                yield store
                await store.close()

    return stores


async def _throughput(folder: str, count: int, postgres: str) -> None:
    sqlite = {n: await _rates(_sqlite_stores(Path(folder)), n, count) for n in (1, 8)}
    reason = unreachable(postgres)
    pg: dict[int, dict[str, float]] = {}
    if reason is None:
        pg = {n: await _rates(_postgres_stores(postgres, n), n, count) for n in (1, 8)}

    banner(f"throughput, {count:,} calls per figure, SQLite (synchronous=FULL) and PostgreSQL")
    for op, label in (
        ("decide", "decisions/s (registry)"),
        ("transition", "transitions/s (store)"),
    ):
        row(f"SQLite {label}, 1 task", sqlite[1][op], "/s")
        row(f"SQLite {label}, 8 tasks", sqlite[8][op], "/s", sqlite[1][op], "1 task")
        if pg:
            row(f"PostgreSQL {label}, 1 task", pg[1][op], "/s", sqlite[1][op], "SQLite")
            row(f"PostgreSQL {label}, 8 tasks", pg[8][op], "/s", sqlite[8][op], "SQLite")
            row(f"PostgreSQL {label}, 8 tasks / 1 task", pg[8][op] / pg[1][op], "x")
    if pg:
        for tasks in (1, 8):
            row(
                f"PostgreSQL transitions/s (store), {tasks} task{'s' * (tasks > 1)}",
                pg[tasks]["transition"],
                "/s",
                pg[tasks]["bare"],
                "bare psycopg UPDATE + history",
            )
    if not pg:
        print(f"   PostgreSQL skipped: no server at {postgres} ({reason})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument(
        "--throughput", type=int, default=2_000, help="calls per throughput figure (0: skip)"
    )
    parser.add_argument(
        "--only-throughput", action="store_true", help="skip the SQLite latency sections"
    )
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL server's URL")
    args = parser.parse_args()

    if args.only_throughput:
        with tempfile.TemporaryDirectory() as folder:
            await _throughput(folder, args.throughput, args.postgres)
        return

    with tempfile.TemporaryDirectory() as folder:
        results: dict[int, dict[str, list[float]]] = {}
        bare: dict[int, dict[str, list[float]]] = {}
        sizes: dict[int, int] = {}
        for count in (args.small, args.large):
            path = Path(folder) / f"confirmations-{count}.db"
            clock = Clock()
            registry = await _filled(path, count, clock)
            results[count] = await _latencies(registry, str(count))
            await registry.aclose()
            bare[count] = _bare(path)
            sizes[count] = _disk_bytes(path)

        banner(f"SqliteConfirmationStore (synchronous=FULL), {SAMPLES} calls each, milliseconds")
        for op in ("register", "decide"):
            for count in (args.small, args.large):
                median, p90 = _quantiles(results[count][op])
                floor_median, floor_p90 = _quantiles(bare[count][op])
                row(
                    f"{op}, {count:,} pending, median",
                    median * 1e3,
                    "ms",
                    floor_median * 1e3,
                    "bare sqlite3",
                )
                row(
                    f"{op}, {count:,} pending, p90",
                    p90 * 1e3,
                    "ms",
                    floor_p90 * 1e3,
                    "bare sqlite3",
                )
            small = statistics.median(results[args.small][op])
            large = statistics.median(results[args.large][op])
            row(f"{op}: median at {args.large:,} / at {args.small:,}", large / small, "x")

        banner(f"expiring {args.large:,} pending records at once")
        timings: dict[str, float] = {}
        for observed in (False, True):
            path = Path(folder) / f"expiry-{observed}.db"
            clock = Clock()
            registry = await _filled(path, args.large, clock)
            events: list[object] = []
            if observed:
                registry.subscribe(events.append)
            clock.now += timedelta(hours=2)
            start = time.perf_counter()
            expired = await registry.cleanup_expired()
            timings["with an observer" if observed else "no observer"] = time.perf_counter() - start
            await registry.aclose()
            assert expired == args.large, expired
            assert len(events) == (args.large if observed else 0)

        floor_path = Path(folder) / "expiry-floor.db"
        floor_registry = await _filled(floor_path, args.large, Clock())
        await floor_registry.aclose()
        conn = sqlite3.connect(floor_path, isolation_level=None)
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE confirmations SET status = 'expired' WHERE status IN ('pending', 'shown')"
        )
        conn.execute("COMMIT")
        floor = time.perf_counter() - start
        conn.close()
        for label, elapsed in timings.items():
            row(f"cleanup_expired, {label}", elapsed, "s", floor, "bare UPDATE, no history")

        banner("bytes on disk per record (with its history), after a checkpoint")
        for count in (args.small, args.large):
            row(f"{count:,} records", sizes[count] / (count + SAMPLES * 2), "B")

        if args.throughput:
            await _throughput(folder, args.throughput, args.postgres)


if __name__ == "__main__":
    asyncio.run(main())
