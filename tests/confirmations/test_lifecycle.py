"""The lifecycle table is what the code does: the stores start each transition only
from its statuses, the registry makes every transition and no other move, and the
drawing and the table in docs/confirmations.md show the same life."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from soni.confirmations import (
    ConfirmationRegistry,
    ConfirmationStore,
    PendingConfirmation,
    Status,
)
from soni.confirmations.lifecycle import (
    APPROVE,
    BEGIN,
    REGISTERED,
    SKIP,
    TRANSITIONS,
    Transition,
)
from soni.confirmations.records import OPEN, TERMINAL
from soni.confirmations.stores.base import Change

from .conftest import ALICE, FakeClock, register_transfer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "confirmations.md"
RECORDS = Path(__file__).resolve().parents[2] / "src" / "soni" / "confirmations" / "records.py"

EDGES = {(source, t.target) for t in TRANSITIONS.values() for source in t.sources}
"""Every move the table allows, as (from, to)."""


def exits(status: Status) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]


def test_every_status_is_reachable_from_registration() -> None:
    reached = {REGISTERED}
    while more := {target for source, target in EDGES if source in reached} - reached:
        reached |= more
    assert reached == set(Status)


def test_terminal_statuses_have_no_exits_and_every_other_one_has() -> None:
    assert {status for status in Status if not exits(status)} == TERMINAL
    # Interrupted is not terminal: its outcome may still be learned.
    assert {t.name for t in exits(Status.INTERRUPTED)} == {
        "retry",
        "resolve_executed",
        "resolve_failed",
    }


def test_a_decision_or_a_withdrawal_starts_from_the_open_statuses_only() -> None:
    closing = [TRANSITIONS[name] for name in ("approve", "skip", "expire", "supersede", "cancel")]
    assert all(t.sources == OPEN for t in closing)
    assert {status for status in Status if status in OPEN} == {Status.PENDING, Status.SHOWN}


def test_the_names_are_the_keys_and_no_two_transitions_are_the_same_move() -> None:
    assert all(name == t.name for name, t in TRANSITIONS.items())
    moves = [(t.sources, t.target) for t in TRANSITIONS.values()]
    assert len(set(moves)) == len(moves)


def test_a_chained_change_must_start_where_the_one_before_leads(clock: FakeClock) -> None:
    claim = Change(BEGIN, clock(), ALICE, runner="r")
    assert Change(APPROVE, clock(), ALICE, then=claim).chain()[-1] is claim
    with pytest.raises(ValueError, match="begin cannot follow skip"):
        Change(SKIP, clock(), ALICE, then=claim)


async def test_a_store_applies_a_transition_only_from_the_statuses_it_starts_from(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    store: ConfirmationStore = registry.store
    template, _ = await register_transfer(registry, conversation_id="template")
    number = 0
    for status in Status:
        for transition in TRANSITIONS.values():
            number += 1
            # A record in ``status``, with no key (so open ones never clash).
            record = dataclasses.replace(
                template,
                id=f"{number:032x}",
                token_hash=f"{number:064x}",
                status=status,
                key=None,
            )
            assert await store.insert(record)
            change = Change(transition, clock(), ALICE)

            done = await store.transition(record.id, change)

            allowed = status in transition.sources
            assert (done is not None) == allowed, (status, transition.name)
            after = await store.get(record.id)
            assert after is not None
            assert after.status is (transition.target if allowed else status)


async def test_the_registry_makes_every_transition_of_the_table_and_no_other_move(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    records: list[PendingConfirmation] = []

    async def asked(shown: bool, *, ttl: float = 300) -> str:
        record, token = await register_transfer(
            registry, conversation_id=f"c{len(records)}", ttl=ttl
        )
        records.append(record)
        if shown:
            await registry.mark_shown(token)
        return token

    async def approved_and_begun() -> str:
        token = await asked(False)
        await registry.decide(token, "approve")
        run = await registry.begin_execution(token)
        assert run.should_run
        return token

    async def interrupted() -> str:
        token = await asked(False)
        await registry.decide(token, "approve")
        # Claimed by a task that then ended without recording what happened.
        assert (await asyncio.create_task(registry.begin_execution(token))).should_run
        assert (await registry.settle(token)).status is Status.INTERRUPTED
        return token

    for shown in (False, True):
        await registry.decide(await asked(shown), "approve")
        await registry.decide(await asked(shown), "skip")
        await registry.cancel(await asked(shown))
        await registry.supersede(await asked(shown))
        due = await asked(shown, ttl=10)
        clock.advance(11)
        await registry.expire_if_due(due)
    await registry.record_result(await approved_and_begun(), {"transfer_id": "T-1"})
    await registry.record_result(await approved_and_begun(), error="the bank said no")
    retried = await registry.retry_execution(await interrupted())
    assert retried.should_run
    await registry.resolve(await interrupted(), {"transfer_id": "T-2"})
    await registry.resolve(await interrupted(), error="it did not happen")

    seen: set[tuple[Status | None, Status]] = set()
    for record in records:
        seen |= {(h.from_status, h.to_status) for h in await registry.history(record.id)}
    assert seen - {(None, REGISTERED)} == EDGES


def _transitions_table() -> str:
    """The table docs/confirmations.md shows, written from ``TRANSITIONS``."""
    order = list(Status)
    rows = ["| transition | from | to |", "|---|---|---|"]
    for t in TRANSITIONS.values():
        sources = ", ".join(f"`{s.value}`" for s in sorted(t.sources, key=order.index))
        rows.append(f"| `{t.name}` | {sources} | `{t.target.value}` |")
    return "\n".join(rows)


def test_the_docs_show_the_table_as_it_is() -> None:
    assert _transitions_table() in DOCS.read_text(encoding="utf-8"), (
        "docs/confirmations.md's table of transitions differs from lifecycle.TRANSITIONS; "
        "the table should read:\n" + _transitions_table()
    )


def test_the_drawing_shows_every_status() -> None:
    # The drawing in Status's docstring, which docs/confirmations.md quotes (same-as).
    source = RECORDS.read_text(encoding="utf-8")
    drawing = source[source.index("class Status") : source.index("PENDING = ")]
    for status in Status:
        assert status.value in drawing, status
