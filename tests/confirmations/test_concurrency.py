"""Races: many tasks or threads decide, execute or register at once; exactly one wins."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool

from soni.confirmations import (
    Actor,
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationRegistry,
    Execution,
    HistoryEntry,
    MemoryConfirmationStore,
    PendingConfirmation,
    PostgresConfirmationStore,
    SqliteConfirmationStore,
    Status,
)

from .conftest import RegistryFactory

T = TypeVar("T")

DECISIONS = {Status.APPROVED, Status.SKIPPED}


def mixed_decisions(count: int, seed: int) -> list[str]:
    """``count`` decisions, approve and skip in random order, both present."""
    rng = random.Random(seed)
    decisions = ["approve", "skip"] + [rng.choice(["approve", "skip"]) for _ in range(count - 2)]
    rng.shuffle(decisions)
    return decisions


async def register(
    registry: ConfirmationRegistry, **options: Any
) -> tuple[PendingConfirmation, str]:
    options.setdefault("conversation_id", "conv-1")
    return await registry.register(
        actions=[("transfer", {"amount": 100})], prompt="Send 100 EUR?", **options
    )


async def attempt_decision(
    registry: ConfirmationRegistry, token: str, index: int, decision: str
) -> PendingConfirmation | AlreadyDecided:
    try:
        return await registry.decide(token, decision, actor=f"user-{index}", channel="api")
    except AlreadyDecided as exc:
        return exc


def run_in_threads(count: int, work: Callable[[int], Awaitable[T]]) -> list[T]:
    """Run ``work(i)`` in ``count`` threads, each on its own event loop, released together."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = asyncio.run(work(index))  # type: ignore[arg-type]
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def assert_one_decision_won(
    final: PendingConfirmation,
    history: list[HistoryEntry],
    decisions: Sequence[str],
    outcomes: Sequence[object],
) -> None:
    recorded = [entry for entry in history if entry.to_status in DECISIONS]
    assert len(recorded) == 1, recorded
    assert final.status is recorded[0].to_status
    assert final.decided_by is not None
    winner = int(final.decided_by.user_id.removeprefix("user-"))  # type: ignore[union-attr]
    assert final.decided_by == Actor(f"user-{winner}", "api")
    assert recorded[0].actor == final.decided_by
    assert (decisions[winner] == "skip") == (final.status is Status.SKIPPED)

    for index, (decision, outcome) in enumerate(zip(decisions, outcomes, strict=True)):
        agrees = (decision == "skip") == (final.status is Status.SKIPPED)
        if agrees:
            assert isinstance(outcome, PendingConfirmation), (index, outcome)
            assert outcome.status is final.status
            assert outcome.chosen == final.chosen
            assert outcome.decided_by == final.decided_by
        else:
            assert isinstance(outcome, AlreadyDecided), (index, outcome)
            assert outcome.status == final.status.value
            assert outcome.decision == final.decision
            assert outcome.decided_by == final.decided_by


# -- one decision wins -------------------------------------------------------------


async def test_100_tasks_deciding_at_once_record_exactly_one_decision(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register(registry)
    decisions = mixed_decisions(100, seed=random.randrange(2**32))

    outcomes = await asyncio.gather(
        *(attempt_decision(registry, token, i, d) for i, d in enumerate(decisions))
    )

    final = await registry.get(token)
    assert_one_decision_won(final, await registry.history(record.id), decisions, outcomes)


async def test_50_threads_each_with_its_own_event_loop_record_exactly_one_decision(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register(registry)
    decisions = mixed_decisions(50, seed=random.randrange(2**32))

    outcomes = await asyncio.to_thread(
        run_in_threads, 50, lambda i: attempt_decision(registry, token, i, decisions[i])
    )

    final = await registry.get(token)
    assert_one_decision_won(final, await registry.history(record.id), decisions, outcomes)


async def test_choices_racing_from_threads_record_exactly_one_option(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await registry.register(
        conversation_id="conv-1",
        actions=[("book_train", {}), ("book_flight", {}), ("book_bus", {})],
        prompt="How?",
    )
    options = ["book_train", "book_flight", "book_bus", "skip"]

    async def choose(index: int) -> PendingConfirmation | AlreadyDecided:
        try:
            return await registry.decide(token, options[index % 4], actor=f"user-{index}")
        except AlreadyDecided as exc:
            return exc

    outcomes = await asyncio.to_thread(run_in_threads, 24, choose)

    final = await registry.get(token)
    history = await registry.history(record.id)
    assert len([e for e in history if e.to_status in DECISIONS]) == 1
    for index, outcome in enumerate(outcomes):
        if options[index % 4] == final.decision:
            assert isinstance(outcome, PendingConfirmation), outcome
            assert outcome.chosen == final.chosen
        else:
            assert isinstance(outcome, AlreadyDecided), outcome
            assert outcome.decision == final.decision


async def test_a_decision_racing_a_cancellation_leaves_one_consistent_outcome(
    registry: ConfirmationRegistry,
) -> None:
    async def act(token: str, index: int) -> object:
        try:
            if index % 2:
                return await registry.cancel(token)
            return await registry.decide(token, "approve", actor=f"user-{index}")
        except ConfirmationClosed as exc:
            return exc

    for _ in range(5):
        record, token = await register(registry)

        outcomes = await asyncio.to_thread(run_in_threads, 8, functools.partial(act, token))

        final = await registry.get(token)
        history = await registry.history(record.id)
        assert len(history) == 2, history
        assert final.status in {Status.APPROVED, Status.CANCELLED}
        for index, outcome in enumerate(outcomes):
            if final.status is Status.CANCELLED and index % 2 == 0:
                assert isinstance(outcome, ConfirmationClosed), outcome
            else:
                assert isinstance(outcome, PendingConfirmation), outcome
                assert outcome.status is final.status


class GatedReads:
    """Holds token lookups back until a given number of them have all been read.

    Every caller then acts on the same snapshot ("pending", or "approved"): only the
    store's compare-and-set can keep the second writer out.
    """

    _waiting = 0
    _all_in: asyncio.Event | None = None

    def gate(self, readers: int) -> None:
        """Hold the next ``readers`` token lookups until all of them have read."""
        self._waiting = readers
        self._all_in = asyncio.Event()

    async def find_by_token_hash(self, token_hash: str) -> PendingConfirmation | None:
        lookup = super().find_by_token_hash  # type: ignore[misc]
        record: PendingConfirmation | None = await lookup(token_hash)
        if self._waiting > 0 and self._all_in is not None:
            self._waiting -= 1
            all_in = self._all_in
            if self._waiting == 0:
                all_in.set()
            # Bounded, so a registry that reads differently slows down, not hangs.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_in.wait(), 5)
        return record


class GatedMemoryStore(GatedReads, MemoryConfirmationStore):
    pass


class GatedSqliteStore(GatedReads, SqliteConfirmationStore):
    pass


class GatedPostgresStore(GatedReads, PostgresConfirmationStore):
    pass


GatedStore = GatedMemoryStore | GatedSqliteStore | GatedPostgresStore


def gated_store(
    store_kind: str, tmp_path: Path, pool: AsyncConnectionPool[Any] | None
) -> GatedStore:
    if store_kind == "memory":
        return GatedMemoryStore()
    if pool is not None:
        return GatedPostgresStore(pool)
    return GatedSqliteStore(tmp_path / "gated.db")


async def test_deciders_that_all_saw_it_pending_still_record_one_decision(
    make_registry: RegistryFactory,
    store_kind: str,
    tmp_path: Path,
    postgres_pool: AsyncConnectionPool[Any] | None,
) -> None:
    store = gated_store(store_kind, tmp_path, postgres_pool)
    registry = make_registry(store=store)
    decisions = mixed_decisions(10, seed=random.randrange(2**32))
    record, token = await register(registry)
    store.gate(10)

    outcomes = await asyncio.gather(
        *(attempt_decision(registry, token, i, d) for i, d in enumerate(decisions))
    )

    final = await registry.get(token)
    assert_one_decision_won(final, await registry.history(record.id), decisions, outcomes)


# -- the action runs at most once --------------------------------------------------


def assert_one_execution(outcomes: Sequence[object], history: list[HistoryEntry]) -> None:
    assert all(isinstance(o, Execution) for o in outcomes), outcomes
    runs = [o for o in outcomes if o.should_run]  # type: ignore[union-attr]
    assert len(runs) == 1
    for outcome in outcomes:
        assert outcome.confirmation.status is Status.EXECUTING  # type: ignore[union-attr]
    assert [e.to_status for e in history].count(Status.EXECUTING) == 1


async def test_20_tasks_beginning_execution_let_exactly_one_run(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register(registry)
    await registry.decide(token, "approve")

    outcomes = await asyncio.gather(*(registry.begin_execution(token) for _ in range(20)))

    assert_one_execution(outcomes, await registry.history(record.id))


async def test_8_threads_beginning_execution_let_exactly_one_run(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register(registry)
    await registry.decide(token, "approve")

    outcomes = await asyncio.to_thread(run_in_threads, 8, lambda _: registry.begin_execution(token))

    assert_one_execution(outcomes, await registry.history(record.id))


async def test_executors_that_all_saw_it_approved_still_let_one_run(
    make_registry: RegistryFactory,
    store_kind: str,
    tmp_path: Path,
    postgres_pool: AsyncConnectionPool[Any] | None,
) -> None:
    store = gated_store(store_kind, tmp_path, postgres_pool)
    registry = make_registry(store=store)
    record, token = await register(registry)
    await registry.decide(token, "approve")
    store.gate(10)

    outcomes = await asyncio.gather(*(registry.begin_execution(token) for _ in range(10)))

    assert_one_execution(outcomes, await registry.history(record.id))


async def test_racing_results_keep_the_first(registry: ConfirmationRegistry) -> None:
    record, token = await register(registry)
    await registry.decide(token, "approve")
    await registry.begin_execution(token)

    outcomes = await asyncio.to_thread(
        run_in_threads, 8, lambda i: registry.record_result(token, {"writer": i})
    )

    final = await registry.get(token)
    assert final.status is Status.EXECUTED
    assert all(isinstance(o, PendingConfirmation) and o == final for o in outcomes), outcomes
    assert [e.to_status for e in await registry.history(record.id)].count(Status.EXECUTED) == 1


# -- idempotent registration -------------------------------------------------------


async def test_20_tasks_registering_one_key_get_one_confirmation_and_token(
    registry: ConfirmationRegistry,
) -> None:
    results = await asyncio.gather(*(register(registry, key="conv-1:step-2") for _ in range(20)))

    assert len({record.id for record, _ in results}) == 1
    assert len({token for _, token in results}) == 1
    assert len(await registry.list()) == 1
    token = results[0][1]
    assert (await registry.decide(token, "approve")).status is Status.APPROVED


async def test_8_threads_registering_one_key_get_one_confirmation_and_token(
    registry: ConfirmationRegistry,
) -> None:
    results = await asyncio.to_thread(
        run_in_threads, 8, lambda _: register(registry, key="conv-1:step-2")
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert len({record.id for record, _ in results}) == 1
    assert len({token for _, token in results}) == 1
    assert len(await registry.list()) == 1
