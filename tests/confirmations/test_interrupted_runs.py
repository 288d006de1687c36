"""Runs whose outcome was never recorded: settled as interrupted, handed out again once, resolved.

A claim to run names the claiming ``Runner``; a closed runner stands for a process
that died. Real processes and their locks are in ``test_runners.py``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from soni.confirmations import (
    Actor,
    ConfirmationNotApproved,
    ConfirmationRegistry,
    Execution,
    MemoryConfirmationStore,
    PendingConfirmation,
    Runner,
    SqliteConfirmationStore,
    Status,
    runners_folder,
)
from soni.confirmations.stores._sqlite_schema import SCHEMA_VERSION

from .conftest import RegistryFactory, register_transfer, transitions
from .test_concurrency import run_in_threads


async def claimed_by_a_dead_runner(
    make_registry: RegistryFactory, path: Path
) -> tuple[ConfirmationRegistry, PendingConfirmation, str]:
    """A live registry, and a run (as claimed) of a registry whose runner then died."""
    dead_runner = Runner()
    crashed = make_registry(path=path, runner=dead_runner)
    _, token = await register_transfer(crashed)
    await crashed.decide(token, "approve")
    run = await crashed.begin_execution(token)
    assert run.should_run and run.confirmation.runner == dead_runner.id
    dead_runner.close()
    return another(make_registry, crashed, path), run.confirmation, token


def another(
    make_registry: RegistryFactory, first: ConfirmationRegistry, path: Path
) -> ConfirmationRegistry:
    """A second registry (another process's, for a database) on the store of ``first``."""
    if isinstance(first.store, MemoryConfirmationStore):
        return make_registry(store=first.store)
    return make_registry(path=path)


async def test_a_claim_whose_runner_died_is_settled_as_interrupted(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    registry, record, token = await claimed_by_a_dead_runner(make_registry, tmp_path / "s.db")

    settled = await registry.settle(token)

    assert settled.status is Status.INTERRUPTED
    assert settled.result is None and settled.error is None
    history = await registry.history(record.id)
    assert transitions(history)[-1] == (Status.EXECUTING, Status.INTERRUPTED)
    assert history[-1].actor == Actor(None, "system")
    # Asking again changes nothing; nor does beginning again.
    assert (await registry.settle(token)).status is Status.INTERRUPTED
    again = await registry.begin_execution(token)
    assert not again.should_run and again.confirmation.status is Status.INTERRUPTED


async def claimed_by_a_task_that_ended(registry: ConfirmationRegistry, token: str) -> Execution:
    """Claim the run in a task of its own, which then ends without recording an outcome."""
    await registry.decide(token, "approve")
    run = await asyncio.create_task(registry.begin_execution(token))
    assert run.should_run
    return run


async def test_a_claim_whose_runner_still_runs_it_is_left_alone(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    run = await claimed_by_a_task_that_ended(registry, token)

    with registry.runner.running(run.confirmation.id):
        assert (await registry.settle(token)).status is Status.EXECUTING
    # Its own runner no longer runs it (a cancelled task): nobody will record it.
    assert (await registry.settle(token)).status is Status.INTERRUPTED


async def test_a_claim_is_in_flight_while_the_task_that_made_it_lives(
    registry: ConfirmationRegistry,
) -> None:
    """As docs/confirmations.md runs an action: claim, run, record — in one task."""
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    running, release = asyncio.Event(), asyncio.Event()

    async def claim_run_and_record() -> None:
        await registry.begin_execution(token)
        running.set()
        await release.wait()  # the action runs
        await registry.record_result(token, {"transfer_id": "T-1"})

    claimant = asyncio.create_task(claim_run_and_record())
    await running.wait()
    # Another task of the process (a sweep, a recovery) must not take it for dead.
    assert (await registry.settle(token)).status is Status.EXECUTING
    assert await registry.recover() == []
    release.set()
    await claimant
    assert (await registry.settle(token)).status is Status.EXECUTED


async def test_a_claim_of_another_live_runner_is_left_alone(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    path = tmp_path / "s.db"
    first = make_registry(path=path)
    other = another(make_registry, first, path)
    _, token = await register_transfer(first)
    await first.decide(token, "approve")
    await first.begin_execution(token)

    assert (await other.settle(token)).status is Status.EXECUTING


async def test_recover_settles_every_run_of_dead_runners_and_only_those(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    registry, dead, _ = await claimed_by_a_dead_runner(make_registry, tmp_path / "s.db")
    live, live_token = await register_transfer(registry, conversation_id="conv-2")
    await registry.decide(live_token, "approve")
    await registry.begin_execution(live_token)

    with registry.runner.running(live.id):
        found = await registry.recover()

    assert [record.id for record in found] == [dead.id]
    assert (await registry.get_by_id(live.id)).status is Status.EXECUTING


async def test_exactly_one_caller_gets_the_run_of_an_interrupted_action_again(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    registry, record, token = await claimed_by_a_dead_runner(make_registry, tmp_path / "s.db")
    await registry.settle(token)

    runs = await asyncio.gather(*(registry.retry_execution(token) for _ in range(20)))

    assert sum(run.should_run for run in runs) == 1
    mine = next(run.confirmation for run in runs if run.should_run)
    assert mine.status is Status.EXECUTING and mine.runner == registry.runner.id
    assert transitions(await registry.history(record.id))[-2:] == [
        (Status.EXECUTING, Status.INTERRUPTED),
        (Status.INTERRUPTED, Status.EXECUTING),
    ]


async def test_threads_in_other_processes_race_for_the_retry_and_one_wins(
    tmp_path: Path,
) -> None:
    path = tmp_path / "threads.db"
    crashed_runner = Runner()
    setup = ConfirmationRegistry(SqliteConfirmationStore(path), runner=crashed_runner)
    _, token = await register_transfer(setup)
    await setup.decide(token, "approve")
    await setup.begin_execution(token)
    await setup.aclose()  # its runner closes: the claim is of a dead runner now

    # Every "process" stays up until all have tried: one that ended would leave
    # its own claim to be found dead and retried again, rightly.
    all_tried = threading.Barrier(8, timeout=60)

    async def retry(index: int) -> bool:
        # Each thread is a process of its own: its own store connection and runner.
        async with ConfirmationRegistry(SqliteConfirmationStore(path)) as registry:
            settled = await registry.settle(token)
            won = False
            if settled.status is Status.INTERRUPTED:
                won = (await registry.retry_execution(token)).should_run
            all_tried.wait()
            return won

    outcomes = await asyncio.to_thread(run_in_threads, 8, retry)

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert outcomes.count(True) == 1


async def test_an_interrupted_claim_taken_over_since_is_not_interrupted_again(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    registry, dead_claim, token = await claimed_by_a_dead_runner(make_registry, tmp_path / "s.db")
    await registry.settle(token)
    retried = await registry.retry_execution(token)
    assert retried.should_run

    # A caller that read the dead claim before the take-over settles it late.
    with registry.runner.running(dead_claim.id):
        late = await registry.settle(dead_claim)

    assert late.status is Status.EXECUTING
    assert late.runner == registry.runner.id


async def test_resolving_records_what_really_happened_once(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    registry, record, token = await claimed_by_a_dead_runner(make_registry, tmp_path / "s.db")
    await registry.settle(token)

    found = await registry.resolve(token, {"transfer_id": "T-9"}, actor="ops", channel="cli")
    again = await registry.resolve(token, error="not found at the bank", actor="ops2")

    assert found.status is Status.EXECUTED
    assert found.result == {"transfer_id": "T-9"}
    assert again == found  # the first outcome recorded stands
    last = (await registry.history(record.id))[-1]
    assert (last.from_status, last.to_status, last.actor) == (
        Status.INTERRUPTED,
        Status.EXECUTED,
        Actor("ops", "cli"),
    )


async def test_only_interrupted_runs_can_be_resolved_or_retried(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    with pytest.raises(ConfirmationNotApproved):
        await registry.resolve(token, {"ok": True})
    with pytest.raises(ConfirmationNotApproved):
        await registry.retry_execution(token)


async def test_an_outcome_recorded_after_the_run_was_declared_interrupted_is_kept(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    await claimed_by_a_task_that_ended(registry, token)
    assert (await registry.settle(token)).status is Status.INTERRUPTED  # stalled, not dead

    recorded = await registry.record_result(token, {"transfer_id": "T-1"})

    assert recorded.status is Status.EXECUTED
    assert recorded.result == {"transfer_id": "T-1"}


async def test_interrupted_records_are_kept_past_retention(
    registry: ConfirmationRegistry, clock: object
) -> None:
    _, token = await register_transfer(registry)
    await claimed_by_a_task_that_ended(registry, token)
    interrupted = await registry.settle(token)
    assert interrupted.status is Status.INTERRUPTED
    clock.advance(days=400)  # type: ignore[attr-defined]

    assert await registry.purge() == 0
    assert (await registry.get_by_id(interrupted.id)) is not None
    assert [r.id for r in await registry.list(status="interrupted")] == [interrupted.id]


# -- the SQLite schema ---------------------------------------------------------------

_VERSION_1 = """
CREATE TABLE confirmations (
    id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, idempotency_key TEXT,
    conversation_id TEXT NOT NULL, user_id TEXT, kind TEXT NOT NULL, actions TEXT NOT NULL,
    prompt TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    status TEXT NOT NULL, chosen TEXT, decided_user TEXT, decided_channel TEXT,
    decided_at INTEGER, result TEXT, error TEXT, updated_at INTEGER NOT NULL
);
CREATE TABLE confirmation_history (
    seq INTEGER PRIMARY KEY, confirmation_id TEXT NOT NULL, from_status TEXT,
    to_status TEXT NOT NULL, actor_user TEXT, actor_channel TEXT NOT NULL, at INTEGER NOT NULL
);
INSERT INTO confirmations VALUES ('c-old', 'h-old', 'k', 'conv-9', 'alice', 'single',
    '[{"args":{},"name":"transfer"}]', 'Send?', 0, 10, 'executing', 'transfer', 'alice',
    'chat', 5, NULL, NULL, 5);
PRAGMA user_version = 1;
"""


async def test_a_database_of_the_previous_schema_is_upgraded_and_its_stuck_runs_settled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(_VERSION_1)

    async with ConfirmationRegistry(SqliteConfirmationStore(path)) as registry:
        old = await registry.get_by_id("c-old")
        assert old is not None and old.status is Status.EXECUTING and old.runner is None
        # Claimed before runners were recorded, by a process that is gone.
        [settled] = await registry.recover()
        assert settled.id == "c-old" and settled.status is Status.INTERRUPTED
        _, token = await register_transfer(registry)
        await registry.decide(token, "approve")
        assert (await registry.begin_execution(token)).confirmation.runner == registry.runner.id

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# -- a registry built without a runner, in another process ---------------------------

_RUNNING_ELSEWHERE = textwrap.dedent(
    """
    import asyncio, sys
    from soni.confirmations import ConfirmationRegistry, SqliteConfirmationStore

    async def main() -> None:
        # As docs/confirmations.md builds one: no runner given.
        registry = ConfirmationRegistry(SqliteConfirmationStore(sys.argv[1]))
        _, token = await registry.register(
            conversation_id="conv-1", user_id="alice",
            actions=[("transfer", {"amount": 10})], prompt="Send 10 EUR?",
        )
        await registry.decide(token, "approve")
        run = await registry.begin_execution(token)
        assert run.should_run
        print(token, flush=True)
        sys.stdin.readline()  # the action runs until told it is done, or killed
        await registry.record_result(token, {"transfer_id": "T-1"})
        await registry.aclose()

    asyncio.run(main())
    """
)


@pytest.mark.slow  # a Python process of its own
async def test_a_run_claimed_through_a_registry_without_a_runner_is_alive_for_other_processes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    child = subprocess.Popen(
        [sys.executable, "-c", _RUNNING_ELSEWHERE, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        token = await asyncio.to_thread(child.stdout.readline)
        token = token.strip()
        # Another process on the database, with a runner beside it (a bot, the CLI).
        runner = Runner(runners_folder(path))
        async with ConfirmationRegistry(SqliteConfirmationStore(path), runner=runner) as bot:
            assert (await bot.settle(token)).status is Status.EXECUTING
            assert await bot.recover() == []
            child.stdin.write("done\n")
            child.stdin.flush()
            assert await asyncio.to_thread(child.wait, 30) == 0
            assert (await bot.get(token)).status is Status.EXECUTED
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)
