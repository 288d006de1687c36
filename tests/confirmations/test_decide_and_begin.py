"""Deciding and claiming the run in one write (the chat's "yes" to a guarded action)."""

from __future__ import annotations

import asyncio

import pytest

from soni.confirmations import (
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationEvent,
    ConfirmationExpired,
    ConfirmationRegistry,
    InvalidDecision,
    Status,
)

from .conftest import ALICE, SYSTEM, FakeClock, register_choice, register_transfer, transitions


async def test_an_approval_is_recorded_and_the_run_claimed_together(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)

    run = await registry.decide_and_begin(token, "approve", actor=ALICE)

    assert run.should_run is True
    assert run.confirmation.status is Status.EXECUTING
    assert run.confirmation.decided_by == ALICE
    stored = await registry.get_by_id(record.id)
    assert stored is not None and stored.status is Status.EXECUTING
    history = await registry.history(record.id)
    assert transitions(history) == [
        (None, Status.PENDING),
        (Status.PENDING, Status.APPROVED),
        (Status.APPROVED, Status.EXECUTING),
    ]
    assert [entry.actor for entry in history[1:]] == [ALICE, SYSTEM]
    # Exactly one run: every later claim gets the recorded state.
    again = await registry.begin_execution(token)
    assert again.should_run is False


async def test_observers_see_the_approval_and_the_claim_as_two_events(
    registry: ConfirmationRegistry,
) -> None:
    events: list[ConfirmationEvent] = []
    registry.subscribe(events.append)
    _, token = await register_transfer(registry)

    await registry.decide_and_begin(token, "approve", actor=ALICE)

    moves = [(e.from_status, e.to_status, e.actor) for e in events[1:]]
    assert moves == [
        (Status.PENDING, Status.APPROVED, ALICE),
        (Status.APPROVED, Status.EXECUTING, SYSTEM),
    ]
    assert events[1].confirmation is not None
    assert events[1].confirmation.status is Status.APPROVED
    assert events[2].confirmation is not None
    assert events[2].confirmation.status is Status.EXECUTING


async def test_a_chosen_option_is_recorded_with_the_claim(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_choice(registry)

    run = await registry.decide_and_begin(token, "book_flight", actor=ALICE)

    assert run.should_run is True
    assert run.confirmation.chosen == "book_flight"
    assert run.confirmation.status is Status.EXECUTING


async def test_a_skip_is_only_a_decision(registry: ConfirmationRegistry) -> None:
    record, token = await register_transfer(registry)

    run = await registry.decide_and_begin(token, "skip", actor=ALICE)

    assert run.should_run is False
    assert run.confirmation.status is Status.SKIPPED
    assert transitions(await registry.history(record.id))[-1] == (Status.PENDING, Status.SKIPPED)


async def test_an_unknown_option_changes_nothing(registry: ConfirmationRegistry) -> None:
    record, token = await register_choice(registry)

    with pytest.raises(InvalidDecision):
        await registry.decide_and_begin(token, "book_rocket")

    stored = await registry.get_by_id(record.id)
    assert stored is not None and stored.status is Status.PENDING


async def test_an_expired_confirmation_is_never_claimed(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    record, token = await register_transfer(registry, ttl=60)
    clock.advance(61)

    with pytest.raises(ConfirmationExpired):
        await registry.decide_and_begin(token, "approve")

    stored = await registry.get_by_id(record.id)
    assert stored is not None and stored.status is Status.EXPIRED


async def test_a_withdrawn_confirmation_is_never_claimed(
    registry: ConfirmationRegistry,
) -> None:
    record, _token = await register_transfer(registry)
    await registry.supersede(record)

    with pytest.raises(ConfirmationClosed):
        await registry.decide_and_begin(record, "approve")


async def test_approved_elsewhere_first_the_run_is_still_claimed_once(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)
    await registry.decide(token, "approve", actor="link")

    # The chat's "yes" arrives with the record as it was read before.
    run = await registry.decide_and_begin(record, "approve", actor=ALICE)

    assert run.should_run is True
    assert run.confirmation.status is Status.EXECUTING
    assert run.confirmation.decided_by is not None
    assert run.confirmation.decided_by.user_id == "link"


async def test_skipped_elsewhere_first_an_approval_is_refused(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)
    await registry.decide(token, "skip")

    with pytest.raises(AlreadyDecided):
        await registry.decide_and_begin(record, "approve")


async def test_racing_claims_let_exactly_one_caller_run(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)

    async def chat() -> bool:
        run = await registry.decide_and_begin(record, "approve", actor=ALICE)
        return run.should_run

    async def link() -> bool:
        await registry.decide(token, "approve", actor="link")
        run = await registry.begin_execution(token)
        return run.should_run

    outcomes = await asyncio.gather(*(chat() for _ in range(10)), *(link() for _ in range(10)))

    assert sum(outcomes) == 1
    stored = await registry.get_by_id(record.id)
    assert stored is not None and stored.status is Status.EXECUTING
