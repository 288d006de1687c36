"""The SQLite store: restarts, what reaches the disk, several processes, many records."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import multiprocessing
import queue
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from soni.confirmations import (
    Actor,
    ConfirmationClosed,
    ConfirmationRegistry,
    MemoryConfirmationStore,
    PendingConfirmation,
    SqliteConfirmationStore,
    Status,
)
from soni.errors import SoniError, StoreClosed

from ._workers import decide_in_process, register_in_process
from .conftest import FakeClock, RegistryFactory, register_transfer, transitions

SQLITE_ONLY = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)


@pytest.fixture
def store_kind() -> str:
    return "sqlite"


async def register(
    registry: ConfirmationRegistry, amount: int = 10, **options: object
) -> tuple[PendingConfirmation, str]:
    options.setdefault("conversation_id", "conv-1")
    return await registry.register(
        actions=[("transfer", {"amount": amount})],
        prompt=f"Send {amount} EUR?",
        **options,  # type: ignore[arg-type]
    )


# -- restarts ----------------------------------------------------------------------


async def test_a_token_issued_before_a_restart_can_still_decide(
    make_registry: RegistryFactory, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "confirmations.db"
    before = make_registry(path=path)
    record, token = await register(before, user_id="alice")
    await before.mark_shown(token)
    await before.aclose()

    after = make_registry(path=path)
    reloaded = await after.get(token)
    decided = await after.decide(token, "approve", actor="alice", channel="http")
    await after.aclose()

    assert reloaded == dataclasses.replace(record, status=Status.SHOWN, updated_at=clock())
    assert decided.status is Status.APPROVED
    third = make_registry(path=path)
    seen = await third.get(token)
    assert seen.status is Status.APPROVED
    assert seen.chosen == "transfer"
    assert seen.decided_by == Actor("alice", "http")
    assert seen.decided_at == clock()
    assert [(e.from_status, e.to_status) for e in await third.history(record.id)] == [
        (None, Status.PENDING),
        (Status.PENDING, Status.SHOWN),
        (Status.SHOWN, Status.APPROVED),
    ]


async def test_a_recorded_result_survives_a_restart(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    path = tmp_path / "confirmations.db"
    before = make_registry(path=path)
    _, token = await register(before)
    await before.decide(token, "approve")
    assert (await before.begin_execution(token)).should_run
    await before.record_result(token, {"transfer_id": "T-9", "nested": {"a": [1, 2]}})
    await before.aclose()

    after = make_registry(path=path)
    execution = await after.begin_execution(token)

    assert execution.should_run is False
    assert execution.confirmation.status is Status.EXECUTED
    assert execution.confirmation.result == {"transfer_id": "T-9", "nested": {"a": [1, 2]}}


async def test_an_execution_interrupted_by_a_restart_is_not_run_again(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    path = tmp_path / "confirmations.db"
    before = make_registry(path=path)
    _, token = await register(before)
    await before.decide(token, "approve")
    assert (await before.begin_execution(token)).should_run
    await before.aclose()  # the process dies before record_result

    after = make_registry(path=path)
    execution = await after.begin_execution(token)

    assert execution.should_run is False
    assert execution.confirmation.status is Status.EXECUTING
    assert execution.confirmation.result is None


async def test_registering_the_same_key_after_a_restart_under_another_secret_supersedes(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    # A registry without the secret the token was made under cannot show it, so
    # it replaces the confirmation with a fresh one instead of leaving the step
    # without a token. (With the same secret it hands the old one back: see
    # test_tokens_across_processes.py.)
    path = tmp_path / "confirmations.db"
    before = make_registry(path=path, secret=b"before" * 8)
    old, old_token = await register(before, key="conv-1:step-4")
    await before.aclose()

    after = make_registry(path=path, secret=b"after-" * 8)
    new, new_token = await register(after, key="conv-1:step-4")

    assert new.id != old.id
    assert new_token != old_token
    assert (await after.get(old_token)).status is Status.SUPERSEDED
    with pytest.raises(ConfirmationClosed):
        await after.decide(old_token, "approve")
    assert (await after.decide(new_token, "approve")).status is Status.APPROVED
    again, again_token = await register(after, key="conv-1:step-4")
    assert again.id != new.id  # the approved one is closed: a new request opens anew
    assert again_token != new_token


async def test_the_database_folder_is_created(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    path = tmp_path / "nested" / "deeper" / "confirmations.db"
    registry = make_registry(path=path)

    _, token = await register(registry)

    assert path.exists()
    assert (await registry.get(token)).status is Status.PENDING


async def test_an_in_memory_database_works(make_registry: RegistryFactory) -> None:
    registry = make_registry(store=SqliteConfirmationStore(":memory:"))
    _, token = await register(registry)

    assert (await registry.decide(token, "skip")).status is Status.SKIPPED


# -- what reaches the disk ---------------------------------------------------------


def _database_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def _assert_token_absent(files: dict[str, bytes], token: str) -> None:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for name, data in files.items():
        assert token.encode() not in data, f"the token is in {name}"
        assert raw not in data, f"the token's bytes are in {name}"


async def test_the_token_never_appears_in_the_database_files(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "db"
    registry = make_registry(path=folder / "confirmations.db")
    approved, approved_token = await register(registry, key="k1")
    await registry.apply_message(f"SHOWN:{approved_token}", actor="alice", channel="chat")
    await registry.apply_message(f"EXECUTE:{approved_token}", actor="alice", channel="chat")
    await registry.begin_execution(approved_token)
    await registry.record_result(approved_token, {"ok": True})
    skipped, skipped_token = await register(registry, amount=20, key="k2")
    await registry.decide(skipped_token, "skip")
    _, pending_token = await register(registry, amount=30, key="k3")

    while_open = _database_files(folder)
    assert {"confirmations.db", "confirmations.db-wal", "confirmations.db-shm"} <= set(while_open)
    await registry.aclose()
    after_close = _database_files(folder)

    for files in (while_open, after_close):
        for token in (approved_token, skipped_token, pending_token):
            _assert_token_absent(files, token)
        stored = b"".join(files.values())
        assert approved.token_hash.encode() in stored  # the files do hold the records
        assert skipped.id.encode() in stored


# -- after close -------------------------------------------------------------------


async def test_operations_after_close_raise_store_closed(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    path = tmp_path / "confirmations.db"
    registry = make_registry(path=path)
    record, token = await register(registry)

    await registry.aclose()
    await registry.aclose()  # closing twice is harmless

    operations = [
        lambda: register(registry, amount=99),
        lambda: registry.get(token),
        lambda: registry.get_by_id(record.id),
        lambda: registry.decide(token, "approve"),
        lambda: registry.mark_shown(token),
        lambda: registry.begin_execution(token),
        lambda: registry.cancel(token),
        lambda: registry.list(),
        lambda: registry.history(record.id),
        lambda: registry.cleanup_expired(),
        lambda: registry.purge(),
        lambda: registry.wait(token, timeout=1),
    ]
    for operation in operations:
        with pytest.raises(StoreClosed):
            await operation()
    assert issubclass(StoreClosed, SoniError)

    reopened = make_registry(path=path)
    assert (await reopened.get(token)).status is Status.PENDING
    assert len(await reopened.list()) == 1


async def test_a_store_closed_before_any_use_refuses_operations(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    registry = make_registry(path=tmp_path / "never-used.db")
    await registry.aclose()

    with pytest.raises(StoreClosed):
        await register(registry)


# -- many records ------------------------------------------------------------------


@pytest.mark.slow  # 2,000 records
async def test_listing_filters_and_limits_among_2000_records(
    make_registry: RegistryFactory, tmp_path: Path, clock: FakeClock
) -> None:
    store = SqliteConfirmationStore(tmp_path / "many.db", synchronous="NORMAL")
    registry = make_registry(store=store)
    ids_by_conversation: dict[str, list[str]] = {}
    skipped: set[str] = set()
    for i in range(2000):
        clock.advance(1)
        conversation = f"conv-{i % 20}"
        record, token = await registry.register(
            conversation_id=conversation,
            user_id=f"user-{i % 3}",
            actions=[("step", {"i": i})],
            prompt=f"Step {i}?",
            ttl=86400,
        )
        ids_by_conversation.setdefault(conversation, []).append(record.id)
        if i % 7 == 0:
            await registry.decide(token, "skip")
            skipped.add(record.id)

    everything = await registry.list()
    assert len(everything) == 2000
    assert [r.created_at for r in everything] == sorted(r.created_at for r in everything)

    conv_7 = await registry.list(conversation_id="conv-7")
    assert [r.id for r in conv_7] == ids_by_conversation["conv-7"]
    assert {r.conversation_id for r in conv_7} == {"conv-7"}

    conv_3_skipped = await registry.list(conversation_id="conv-3", status="skipped")
    assert [r.id for r in conv_3_skipped] == [
        i for i in ids_by_conversation["conv-3"] if i in skipped
    ]
    assert len(conv_3_skipped) == 14  # i = 3 + 20k with i % 7 == 0, i < 2000
    assert {r.status for r in conv_3_skipped} == {Status.SKIPPED}

    all_skipped = await registry.list(status=Status.SKIPPED)
    assert {r.id for r in all_skipped} == skipped
    pending = await registry.list(status="pending")
    assert len(pending) == 2000 - len(skipped) == 1714
    assert len(await registry.list(status={"pending", "skipped"})) == 2000
    assert await registry.list(status="approved") == []

    first_50 = await registry.list(status="pending", limit=50)
    assert [r.id for r in first_50] == [r.id for r in pending[:50]]
    assert len(await registry.list(user_id="user-1")) == 667
    both = await registry.list(conversation_id="conv-3", user_id="user-0", limit=5)
    assert len(both) == 5
    assert all(r.conversation_id == "conv-3" and r.user_id == "user-0" for r in both)


# -- several processes -------------------------------------------------------------


def _run_processes(target: Callable[..., None], args: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``target(*args[i], barrier, results)`` in spawned processes; collect results.

    Every process gets a shared barrier (to start together) and a result queue.
    Stragglers are terminated, so a hung worker fails the test instead of hanging it.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args))
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(*arguments, barrier, results), daemon=True)
        for arguments in args
    ]
    for process in processes:
        process.start()
    collected: list[Any] = []
    try:
        deadline = time.monotonic() + 120
        for _ in processes:
            try:
                collected.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                break
    finally:
        for process in processes:
            process.join(timeout=10)
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        results.close()
        results.join_thread()
    return collected


def _race_in_processes(path: str, token: str, decisions: list[str]) -> dict[int, tuple[str, str]]:
    reports = _run_processes(
        decide_in_process,
        [(path, token, decision, worker) for worker, decision in enumerate(decisions)],
    )
    return {worker: (decision, outcome) for worker, decision, outcome in reports}


@pytest.mark.slow  # processes of their own
async def test_8_processes_deciding_at_once_record_exactly_one_decision(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    path = tmp_path / "shared.db"
    registry = make_registry(path=path, clock=None)  # the workers use the real clock too
    record, token = await register(registry, ttl=600)
    rng = random.Random()
    decisions = ["approve", "skip"] + [rng.choice(["approve", "skip"]) for _ in range(6)]
    rng.shuffle(decisions)

    outcomes = await asyncio.to_thread(_race_in_processes, str(path), token, decisions)

    assert sorted(outcomes) == list(range(8)), outcomes
    final = await registry.get(token)
    history = await registry.history(record.id)
    recorded = [e for e in history if e.to_status in (Status.APPROVED, Status.SKIPPED)]
    assert len(recorded) == 1, history
    assert final.status is recorded[0].to_status
    winners = [w for w, (_, outcome) in outcomes.items() if outcome.startswith("decided:")]
    assert len(winners) == 1, outcomes
    (winner,) = winners
    assert final.decided_by == Actor(f"worker-{winner}", "cli")
    assert outcomes[winner][1] == f"decided:{final.status}"
    assert (outcomes[winner][0] == "skip") == (final.status is Status.SKIPPED)
    for worker, (decision, outcome) in outcomes.items():
        if worker == winner:
            continue
        if (decision == "skip") == (final.status is Status.SKIPPED):
            assert outcome == "same", outcomes
        else:
            assert outcome == f"already:{final.status}", outcomes


@pytest.mark.slow  # processes of their own
async def test_processes_opening_a_new_database_at_once_all_get_to_register(
    make_registry: RegistryFactory, tmp_path: Path
) -> None:
    # Several server workers starting on a fresh deployment race to create the file,
    # switch it to WAL and create the schema.
    path = tmp_path / "fresh" / "confirmations.db"

    reports = await asyncio.to_thread(
        _run_processes, register_in_process, [(str(path), worker) for worker in range(4)]
    )

    tokens = dict(reports)
    assert sorted(tokens) == [0, 1, 2, 3], reports
    assert not [t for t in tokens.values() if t.startswith("error:")], reports
    registry = make_registry(path=path, clock=None)
    for worker, token in tokens.items():
        record = await registry.get(token)
        assert record.conversation_id == f"conv-{worker}"
        assert record.status is Status.PENDING
    assert len(await registry.list()) == 4


async def test_a_closed_memory_store_refuses_operations_too() -> None:
    registry = ConfirmationRegistry(MemoryConfirmationStore())
    record, token = await registry.register(
        conversation_id="c1", actions=[("ping", {})], prompt="Ping?"
    )
    await registry.aclose()

    with pytest.raises(StoreClosed):
        await registry.decide(token, "approve")
    with pytest.raises(StoreClosed):
        await registry.history(record.id)


async def test_only_writes_safe_to_lose_skip_their_flush(tmp_path: Path) -> None:
    """Registering and recording an outcome are not flushed alone; decisions are."""
    store = SqliteConfirmationStore(tmp_path / "flush.db")
    registry = ConfirmationRegistry(store)
    statements: list[str] = []
    try:
        record, token = await registry.register(
            conversation_id="c", actions=[("pay", {"amount": 1})], prompt="Pay?"
        )
        assert store._conn is not None
        store._conn.set_trace_callback(statements.append)

        def flushes_off() -> int:
            count = sum("synchronous=NORMAL" in s for s in statements)
            statements.clear()
            return count

        await registry.decide(token, "approve")
        assert flushes_off() == 0  # a decision is flushed before it returns
        await registry.begin_execution(token)
        assert flushes_off() == 0  # so is the claim to run
        await registry.record_result(record, {"ok": True})
        assert flushes_off() == 1  # the outcome rides on the next flush
        await registry.register(conversation_id="c", actions=[("pay", {"amount": 2})], prompt="?")
        assert flushes_off() == 1
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again
    finally:
        await registry.aclose()


# -- a full database -------------------------------------------------------------


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
