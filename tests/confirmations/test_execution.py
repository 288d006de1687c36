"""Executing approved actions at most once, and withdrawing confirmations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from soni.confirmations import (
    ActionCall,
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationExpired,
    ConfirmationNotApproved,
    ConfirmationRegistry,
    Status,
)

from .conftest import FakeClock, register_choice, register_transfer, transitions

# -- executing ---------------------------------------------------------------------


async def test_begin_execution_lets_exactly_one_caller_run(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")

    first = await registry.begin_execution(token)
    second = await registry.begin_execution(token)

    assert first.should_run is True
    assert first.confirmation.status is Status.EXECUTING
    assert first.confirmation.chosen_action == ActionCall("transfer", {"amount": 10, "to": "bob"})
    assert second.should_run is False
    assert second.confirmation.status is Status.EXECUTING
    assert second.confirmation.result is None


async def test_the_recorded_result_is_handed_to_later_callers(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    await registry.begin_execution(token)

    executed = await registry.record_result(token, {"transfer_id": "T-1", "fee": 0.5})
    later = await registry.begin_execution(token)

    assert executed.status is Status.EXECUTED
    assert executed.result == {"transfer_id": "T-1", "fee": 0.5}
    assert later.should_run is False
    assert later.confirmation.status is Status.EXECUTED
    assert later.confirmation.result == {"transfer_id": "T-1", "fee": 0.5}
    assert (await registry.get_by_id(record.id)).result == {"transfer_id": "T-1", "fee": 0.5}


async def test_the_first_recorded_result_wins(registry: ConfirmationRegistry) -> None:
    record, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    await registry.begin_execution(token)

    first = await registry.record_result(token, {"n": 1})
    second = await registry.record_result(token, {"n": 2})
    failure = await registry.record_result(token, error=RuntimeError("late"))

    assert second == first
    assert failure == first
    assert (await registry.get(token)).result == {"n": 1}
    assert [e.to_status for e in await registry.history(record.id)].count(Status.EXECUTED) == 1


async def test_an_error_is_recorded_as_failed(registry: ConfirmationRegistry) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    await registry.begin_execution(token)

    failed = await registry.record_result(token, error=ValueError("bank is closed"))
    later = await registry.begin_execution(token)
    again = await registry.record_result(token, {"ok": True})

    assert failed.status is Status.FAILED
    assert "bank is closed" in failed.error
    assert "ValueError" in failed.error
    assert failed.result is None
    assert later.should_run is False
    assert later.confirmation.error == failed.error
    assert again.status is Status.FAILED


async def test_an_error_can_be_given_as_text(registry: ConfirmationRegistry) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    await registry.begin_execution(token)

    failed = await registry.record_result(token, error="timed out after 5 s")

    assert failed.status is Status.FAILED
    assert failed.error == "timed out after 5 s"


async def test_a_result_that_is_not_json_is_kept_as_text(registry: ConfirmationRegistry) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    await registry.begin_execution(token)
    when = datetime(2030, 5, 1, 9, 30, tzinfo=UTC)

    executed = await registry.record_result(token, {"when": when, "ok": True})

    assert executed.status is Status.EXECUTED
    assert executed.result == {"when": str(when), "ok": True}
    assert (await registry.get(token)).result == {"when": str(when), "ok": True}


async def test_a_result_with_nan_is_recorded(registry: ConfirmationRegistry) -> None:
    # A computed ratio can be NaN; the action ran, so its outcome must be recorded
    # rather than leaving the confirmation stuck in ``executing``.
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    await registry.begin_execution(token)

    executed = await registry.record_result(token, {"ratio": float("nan"), "ok": True})

    assert executed.status is Status.EXECUTED
    assert (await registry.get(token)).status is Status.EXECUTED
    assert (await registry.begin_execution(token)).confirmation.result["ok"] is True


async def test_begin_execution_of_an_undecided_confirmation_is_refused(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)

    with pytest.raises(ConfirmationNotApproved) as pending:
        await registry.begin_execution(token)
    await registry.mark_shown(token)
    with pytest.raises(ConfirmationNotApproved) as shown:
        await registry.begin_execution(token)

    assert pending.value.status == "pending"
    assert pending.value.confirmation_id == record.id
    assert shown.value.status == "shown"
    assert (await registry.get(token)).status is Status.SHOWN


async def test_begin_execution_of_a_skipped_confirmation_raises_already_decided(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "skip")

    with pytest.raises(AlreadyDecided) as error:
        await registry.begin_execution(token)

    assert error.value.decision == "skip"
    assert (await registry.get(token)).status is Status.SKIPPED


async def test_begin_execution_of_an_expired_confirmation_raises_expired(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    _, token = await register_transfer(registry, ttl=10)
    clock.advance(11)
    assert await registry.cleanup_expired() == 1

    with pytest.raises(ConfirmationExpired):
        await registry.begin_execution(token)


async def test_begin_execution_past_expiry_raises_expired_even_before_a_sweep(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    # Nobody swept yet, but the time is up: the caller must learn "expired", the
    # same answer ``decide`` gives, not "waiting for a decision".
    _, token = await register_transfer(registry, ttl=10)
    clock.advance(11)

    with pytest.raises(ConfirmationExpired):
        await registry.begin_execution(token)


async def test_begin_execution_of_a_withdrawn_confirmation_raises_closed(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    await registry.cancel(token)

    with pytest.raises(ConfirmationClosed):
        await registry.begin_execution(token)


async def test_a_result_without_execution_is_refused(registry: ConfirmationRegistry) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")

    with pytest.raises(ConfirmationNotApproved):
        await registry.record_result(token, {"ok": True})

    assert (await registry.get(token)).status is Status.APPROVED
    assert (await registry.begin_execution(token)).should_run is True


async def test_the_chosen_option_is_what_runs(registry: ConfirmationRegistry) -> None:
    _, token = await register_choice(registry)
    await registry.decide(token, "book_bus")

    execution = await registry.begin_execution(token)

    assert execution.should_run is True
    assert execution.confirmation.chosen_action == ActionCall("book_bus", {"to": "Paris"}, "Bus")


# -- cancel and supersede ----------------------------------------------------------


async def test_cancel_withdraws_an_open_confirmation(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    record, token = await register_transfer(registry)
    await registry.mark_shown(token)
    clock.advance(3)

    cancelled = await registry.cancel(token, actor="alice")

    assert cancelled.status is Status.CANCELLED
    history = await registry.history(record.id)
    assert transitions(history)[-1] == (Status.SHOWN, Status.CANCELLED)
    assert history[-1].actor.user_id == "alice"
    assert history[-1].at == clock()
    for decision in ("approve", "skip"):
        with pytest.raises(ConfirmationClosed) as error:
            await registry.decide(token, decision)
        assert error.value.status == "cancelled"


async def test_cancel_leaves_a_decided_confirmation_unchanged(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)
    approved = await registry.decide(token, "approve")

    assert await registry.cancel(token) == approved
    assert await registry.supersede(token) == approved
    assert len(await registry.history(record.id)) == 2


async def test_cancel_twice_returns_the_cancelled_record(registry: ConfirmationRegistry) -> None:
    record, token = await register_transfer(registry)

    first = await registry.cancel(token)
    second = await registry.cancel(token)

    assert second == first
    assert len(await registry.history(record.id)) == 2


async def test_cancel_conversation_cancels_its_open_confirmations_only(
    registry: ConfirmationRegistry,
) -> None:
    _, open_1 = await register_transfer(registry, conversation_id="conv-1", amount=1)
    _, open_2 = await register_transfer(registry, conversation_id="conv-1", amount=2)
    await registry.mark_shown(open_2)
    _, decided = await register_transfer(registry, conversation_id="conv-1", amount=3)
    await registry.decide(decided, "approve")
    _, other = await register_transfer(registry, conversation_id="conv-2", amount=4)

    count = await registry.cancel_conversation("conv-1")

    assert count == 2
    assert (await registry.get(open_1)).status is Status.CANCELLED
    assert (await registry.get(open_2)).status is Status.CANCELLED
    assert (await registry.get(decided)).status is Status.APPROVED
    assert (await registry.get(other)).status is Status.PENDING
    assert await registry.cancel_conversation("conv-1") == 0
    assert await registry.cancel_conversation("no-such-conversation") == 0


async def test_supersede_withdraws_an_open_confirmation(registry: ConfirmationRegistry) -> None:
    record, token = await register_transfer(registry)

    superseded = await registry.supersede(token)

    assert superseded.status is Status.SUPERSEDED
    assert transitions(await registry.history(record.id))[-1] == (
        Status.PENDING,
        Status.SUPERSEDED,
    )
    with pytest.raises(ConfirmationClosed) as error:
        await registry.decide(token, "approve")
    assert error.value.status == "superseded"


async def test_a_cancelled_key_can_be_registered_again(registry: ConfirmationRegistry) -> None:
    old, old_token = await register_transfer(registry, key="step")
    await registry.cancel(old_token)

    new, new_token = await register_transfer(registry, key="step")

    assert new.id != old.id
    assert new_token != old_token
    assert (await registry.decide(new_token, "approve")).status is Status.APPROVED


async def test_a_result_that_cannot_be_serialised_still_closes_the_execution(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve")
    assert (await registry.begin_execution(token)).should_run
    result: dict[str, Any] = {"transfer_id": "T-1"}
    result["itself"] = result

    recorded = await registry.record_result(token, result)

    assert recorded.status is Status.EXECUTED
    assert recorded.result  # a placeholder that says why the result is missing
    assert recorded.error is None
    stored = await registry.get(token)
    assert stored.status is Status.EXECUTED
    assert stored.result == recorded.result
    later = await registry.begin_execution(token)
    assert later.should_run is False
    assert later.confirmation.status is Status.EXECUTED
