"""The PostgreSQL storage: turn order, runner liveness and notices across processes.

Each test opens storages on its own throwaway database. Two storages in one test
stand for two processes (each has its own pools, runner and listener); where a
process must really die, a child process holds what is tested and is SIGKILLed.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg
import pytest

from soni.errors import ConversationBusy, SoniError
from soni.storage import Notice, Storage, open_storage
from soni.storage.postgres import advisory_key

OpenStorage = Callable[[], Awaitable[Storage]]


@pytest.fixture
async def open_pg(postgres_database: str) -> AsyncIterator[OpenStorage]:
    opened: list[Storage] = []

    async def open_one() -> Storage:
        storage = await open_storage(postgres_database)
        opened.append(storage)
        return storage

    yield open_one
    for storage in opened:
        await storage.close()


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from soni.storage import open_storage

    async def main():
        storage = await open_storage(sys.argv[1])
        if sys.argv[2] == "turn":
            async with storage.turn("c1"):
                print("held", flush=True)
                await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        else:
            print(storage.runner.id, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await storage.close()

    asyncio.run(main())
    """
)


def start_child(url: str, what: str) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, url, what],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)


async def test_a_turn_held_in_one_process_makes_another_wait_or_answer_busy(
    open_pg: OpenStorage,
) -> None:
    first, second = await open_pg(), await open_pg()
    async with first.turn("c1"):
        with pytest.raises(ConversationBusy):
            async with second.turn("c1", wait=0):
                pass
        with pytest.raises(ConversationBusy):
            async with second.turn("c1", wait=0.05):
                pass
        # Another conversation is not held up.
        async with second.turn("c2", wait=0):
            pass
    async with second.turn("c1", wait=0):
        pass


async def test_turns_of_one_conversation_across_processes_run_one_at_a_time_in_order(
    open_pg: OpenStorage,
) -> None:
    storages = [await open_pg() for _ in range(4)]
    order: list[int] = []
    gate = asyncio.Event()
    holding = asyncio.Event()

    async def turn(number: int) -> None:
        async with storages[number].turn("shared"):
            if number == 0:
                holding.set()
                await gate.wait()
            order.append(number)

    tasks = [asyncio.create_task(turn(0))]
    await holding.wait()
    for number in range(1, 4):
        tasks.append(asyncio.create_task(turn(number)))
        # Each waiter is queued in the database before the next arrives.
        await _until_waiting(storages[0], number)
    gate.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3]


async def test_turns_of_one_conversation_never_overlap_across_processes(
    open_pg: OpenStorage,
) -> None:
    storages = [await open_pg() for _ in range(3)]
    inside = 0
    most = 0

    async def turn(number: int) -> None:
        nonlocal inside, most
        async with storages[number % 3].turn("shared"):
            inside += 1
            most = max(most, inside)
            for _ in range(3):
                await asyncio.sleep(0)  # let any other holder run, were the lock broken
            inside -= 1

    await asyncio.gather(*(turn(n) for n in range(30)))
    assert most == 1


async def _until_waiting(storage: Storage, count: int) -> None:
    """Until ``count`` sessions wait for an advisory lock (read from pg_locks)."""
    pool = storage.pool  # type: ignore[attr-defined]
    async with pool.connection() as conn:
        for _ in range(2000):
            cursor = await conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            row = await cursor.fetchone()
            if row and row[0] >= count:
                return
            await asyncio.sleep(0.005)  # polling the database's own lock table
    raise AssertionError(f"{count} waiters never queued")


async def test_a_worker_killed_mid_turn_leaves_no_lock_behind(
    open_pg: OpenStorage, postgres_database: str
) -> None:
    storage = await open_pg()
    child, said = start_child(postgres_database, "turn")
    try:
        assert said == "held"
        with pytest.raises(ConversationBusy):
            async with storage.turn("c1", wait=0):
                pass
    finally:
        kill(child)
    # The database ends the dead session's transaction, and its lock with it.
    async with storage.turn("c1", wait=30):
        pass


async def test_a_runner_is_alive_while_its_process_lives(
    open_pg: OpenStorage, postgres_database: str
) -> None:
    storage = await open_pg()
    child, runner_id = start_child(postgres_database, "runner")
    try:
        assert await storage.runner.alive(runner_id)
        assert await storage.runner.in_flight(runner_id, "any-run")
    finally:
        kill(child)
    # Wait for the database to notice: take the dead runner's lock ourselves.
    key = advisory_key("runner", runner_id)
    async with await psycopg.AsyncConnection.connect(postgres_database, autocommit=True) as conn:
        await conn.execute("SET lock_timeout = '30s'")
        await conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    assert not await storage.runner.alive(runner_id)
    assert not await storage.runner.alive("0" * 24)


async def test_notices_reach_the_other_processes_but_not_their_sender(
    open_pg: OpenStorage,
) -> None:
    sender, receiver = await open_pg(), await open_pg()
    heard: list[Notice] = []
    arrived = asyncio.Event()
    echoed: list[Notice] = []

    def hear(notice: Notice) -> None:
        heard.append(notice)
        arrived.set()

    receiver.subscribe(hear)
    sender.subscribe(echoed.append)
    notice = Notice("confirmation", "c1", sender.origin, confirmation_id="x1", to_status="approved")
    await sender.publish(notice)
    await asyncio.wait_for(arrived.wait(), 30)
    assert heard == [notice]
    # Its own notice came back to the sender too (one channel): and was dropped.
    marker = Notice("turn", "c2", receiver.origin)
    got_marker = asyncio.Event()
    sender.subscribe(lambda n: got_marker.set() if n == marker else None)
    await receiver.publish(marker)
    await asyncio.wait_for(got_marker.wait(), 30)
    assert echoed == [marker]


async def test_status_shows_schema_versions_and_rows(open_pg: OpenStorage) -> None:
    storage = await open_pg()
    status = await storage.status()
    assert status.backend == "postgres"
    assert {"checkpoints", "confirmations", "journal"} <= set(status.schema)
    assert status.rows["confirmations"] == 0
    assert "@" not in status.location or ":" not in status.location.split("@")[0][13:]


@pytest.mark.slow  # waits out connection attempts
async def test_an_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(SoniError, match="cannot use the PostgreSQL database"):
        await open_storage("postgresql://nobody:secret@127.0.0.1:1/nowhere?connect_timeout=2")


async def test_two_processes_creating_the_schema_at_once_both_start(
    postgres_database: str,
) -> None:
    both = await asyncio.gather(*(open_storage(postgres_database) for _ in range(3)))
    for storage in both:
        await storage.close()


async def test_turns_beyond_the_pool_answer_busy_with_the_reason_and_the_others_go_on(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SONI_DB_POOL_SIZE", "2")
    storage = await open_storage(postgres_database)
    release = asyncio.Event()
    holding = 0
    both_held = asyncio.Event()

    async def hold(conversation: str) -> None:
        nonlocal holding
        async with storage.turn(conversation):
            holding += 1
            if holding == 2:
                both_held.set()
            await release.wait()

    try:
        held = [asyncio.create_task(hold(f"held-{n}")) for n in range(2)]
        await asyncio.wait_for(both_held.wait(), 30)
        for wait in (0.0, 0.3):
            with pytest.raises(ConversationBusy, match="every database connection") as busy:
                async with storage.turn("third", wait):
                    pytest.fail("a third turn ran beside two on a pool of two")
            assert busy.value.conversation_id == "third"
        release.set()
        await asyncio.gather(*held)
        async with storage.turn("third", 0.0):
            pass  # room again
    finally:
        release.set()
        await storage.close()


@pytest.mark.parametrize("size", ["0", "-3", "ten", "2.5"])
async def test_a_bad_pool_size_is_one_clear_error(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch, size: str
) -> None:
    monkeypatch.setenv("SONI_DB_POOL_SIZE", size)
    with pytest.raises(SoniError, match=r"SONI_DB_POOL_SIZE|pool size must be a positive"):
        await open_storage(postgres_database)
