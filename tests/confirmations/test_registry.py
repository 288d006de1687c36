"""The confirmation lifecycle: tokens, registering, deciding, showing, choosing."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from soni.confirmations import (
    ActionCall,
    Actor,
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationError,
    ConfirmationExpired,
    ConfirmationNotApproved,
    ConfirmationRegistry,
    InvalidDecision,
    PendingConfirmation,
    Status,
    UnknownConfirmation,
)

from .conftest import ALICE, FakeClock, register_choice, register_transfer, transitions

# -- tokens ------------------------------------------------------------------------


async def test_token_is_url_safe_with_at_least_128_random_bits(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)

    assert token.isascii()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128


async def test_tokens_are_unique(registry: ConfirmationRegistry) -> None:
    tokens = {(await register_transfer(registry, conversation_id=f"c{i}"))[1] for i in range(100)}

    assert len(tokens) == 100


async def test_only_the_sha256_of_the_token_is_kept(registry: ConfirmationRegistry) -> None:
    record, token = await register_transfer(registry)

    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = await registry.get(token)
    listed = await registry.list()
    by_id = await registry.get_by_id(record.id)
    for value in (record, stored, listed, by_id, await registry.history(record.id)):
        assert token not in repr(value)


async def test_the_token_finds_its_confirmation(registry: ConfirmationRegistry) -> None:
    record, token = await register_transfer(registry, amount=42)

    found = await registry.get(token)

    assert found == record
    assert found.status is Status.PENDING
    assert found.kind == "single"
    assert found.conversation_id == "conv-1"
    assert found.user_id == "alice"
    assert found.prompt == "Send 42 EUR to Bob?"
    assert found.actions == (ActionCall("transfer", {"amount": 42, "to": "bob"}),)
    assert await registry.get_by_id(record.id) == record


@pytest.mark.parametrize(
    "bad_token",
    ["", "short", "x" * 21, "has spaces in it and is long", "EXECUTE:" + "a" * 32, "é" * 32],
)
async def test_malformed_and_unknown_tokens_get_the_same_answer(
    registry: ConfirmationRegistry, bad_token: str
) -> None:
    await register_transfer(registry)
    unknown = "A" * 32  # well-formed, never issued

    with pytest.raises(UnknownConfirmation) as malformed_error:
        await registry.decide(bad_token, "approve")
    with pytest.raises(UnknownConfirmation) as unknown_error:
        await registry.decide(unknown, "approve")

    assert str(malformed_error.value) == str(unknown_error.value)
    assert unknown not in str(unknown_error.value)


async def test_every_operation_refuses_an_unknown_token(registry: ConfirmationRegistry) -> None:
    unknown = "B" * 32

    operations = [
        lambda: registry.get(unknown),
        lambda: registry.decide(unknown, "skip"),
        lambda: registry.mark_shown(unknown),
        lambda: registry.begin_execution(unknown),
        lambda: registry.record_result(unknown, {}),
        lambda: registry.cancel(unknown),
        lambda: registry.supersede(unknown),
        lambda: registry.wait(unknown, timeout=1),
    ]
    for operation in operations:
        with pytest.raises(UnknownConfirmation):
            await operation()


async def test_non_string_token_is_unknown(registry: ConfirmationRegistry) -> None:
    with pytest.raises(UnknownConfirmation):
        await registry.decide(None, "approve")  # type: ignore[arg-type]
    with pytest.raises(UnknownConfirmation):
        await registry.get(12345)  # type: ignore[arg-type]


# -- registering -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "options"),
    [
        ([], {}),
        ([("a", {}), ("a", {"x": 1})], {}),
        ([("a", {"when": datetime(2030, 1, 1, tzinfo=UTC)})], {}),
        ([("a", {"x": object()})], {}),
        ([("a", {"x": float("nan")})], {}),
        ([("a", {"x": {1, 2}})], {}),
        ([("a", {})], {"ttl": 0}),
        ([("a", {})], {"ttl": -5}),
        ([("a", {})], {"ttl": timedelta(0)}),
        ([("a", {}), ("b", {})], {"kind": "single"}),
    ],
    ids=[
        "no-actions",
        "duplicate-names",
        "datetime-arg",
        "object-arg",
        "nan-arg",
        "set-arg",
        "zero-ttl",
        "negative-ttl",
        "zero-timedelta-ttl",
        "single-with-two-actions",
    ],
)
async def test_register_rejects_invalid_requests(
    registry: ConfirmationRegistry, actions: list, options: dict
) -> None:
    with pytest.raises(ValueError):
        await registry.register(
            conversation_id="conv-1", actions=actions, prompt="?", key="k", **options
        )

    assert await registry.list() == []


async def test_ttl_sets_expiry(registry: ConfirmationRegistry, clock: FakeClock) -> None:
    default, _ = await register_transfer(registry)
    short, _ = await register_transfer(registry, ttl=30)
    delta, _ = await register_transfer(registry, ttl=timedelta(minutes=2))

    assert default.created_at == clock()
    assert default.expires_at == clock() + timedelta(seconds=300)
    assert short.expires_at == clock() + timedelta(seconds=30)
    assert delta.expires_at == clock() + timedelta(minutes=2)


async def test_same_key_and_actions_returns_the_same_confirmation_and_token(
    registry: ConfirmationRegistry,
) -> None:
    first, token = await register_transfer(registry, key="conv-1:frame-1:step-3")
    again, token_again = await register_transfer(registry, key="conv-1:frame-1:step-3")

    assert again.id == first.id
    assert token_again == token
    assert len(await registry.list()) == 1
    assert transitions(await registry.history(first.id)) == [(None, Status.PENDING)]


async def test_same_key_with_arguments_in_another_order_is_the_same_request(
    registry: ConfirmationRegistry,
) -> None:
    first, token = await registry.register(
        conversation_id="c", actions=[("pay", {"a": 1, "b": {"x": 1, "y": 2}})], prompt="?", key="k"
    )
    again, token_again = await registry.register(
        conversation_id="c", actions=[("pay", {"b": {"y": 2, "x": 1}, "a": 1})], prompt="?", key="k"
    )

    assert (again.id, token_again) == (first.id, token)


async def test_same_key_with_other_arguments_supersedes_the_old_confirmation(
    registry: ConfirmationRegistry,
) -> None:
    old, old_token = await register_transfer(registry, amount=10, key="step")
    new, new_token = await register_transfer(registry, amount=20, key="step")

    assert new.id != old.id
    assert new_token != old_token
    assert new.status is Status.PENDING
    assert (await registry.get(old_token)).status is Status.SUPERSEDED
    assert transitions(await registry.history(old.id)) == [
        (None, Status.PENDING),
        (Status.PENDING, Status.SUPERSEDED),
    ]
    with pytest.raises(ConfirmationClosed) as closed:
        await registry.decide(old_token, "approve")
    assert closed.value.status == "superseded"
    assert closed.value.confirmation_id == old.id

    decided = await registry.decide(new_token, "approve")
    assert decided.chosen_action == ActionCall("transfer", {"amount": 20, "to": "bob"})


async def test_same_key_after_expiry_expires_the_old_one_and_creates_a_new_one(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    old, old_token = await register_transfer(registry, key="step", ttl=60)
    clock.advance(61)

    new, new_token = await register_transfer(registry, key="step", ttl=60)

    assert new.id != old.id
    assert new_token != old_token
    assert new.status is Status.PENDING
    assert new.expires_at == clock() + timedelta(seconds=60)
    assert (await registry.get(old_token)).status is Status.EXPIRED
    with pytest.raises(ConfirmationExpired):
        await registry.decide(old_token, "approve")
    assert (await registry.decide(new_token, "approve")).status is Status.APPROVED


async def test_same_key_after_a_decision_opens_a_new_confirmation(
    registry: ConfirmationRegistry,
) -> None:
    old, old_token = await register_transfer(registry, key="step")
    await registry.decide(old_token, "skip")

    new, new_token = await register_transfer(registry, key="step")

    assert new.id != old.id
    assert new_token != old_token
    assert new.status is Status.PENDING
    assert (await registry.get(old_token)).status is Status.SKIPPED


async def test_keys_are_independent(registry: ConfirmationRegistry) -> None:
    first, first_token = await register_transfer(registry, key="step-1")
    second, second_token = await register_transfer(registry, key="step-2")

    assert first.id != second.id
    assert first_token != second_token
    assert {r.status for r in await registry.list()} == {Status.PENDING}


# -- deciding ----------------------------------------------------------------------


async def test_approve_records_who_decided_when(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    record, token = await register_transfer(registry)
    clock.advance(5)

    approved = await registry.decide(token, "approve", actor="alice", channel="chat")

    assert approved.id == record.id
    assert approved.status is Status.APPROVED
    assert approved.chosen == "transfer"
    assert approved.chosen_action == ActionCall("transfer", {"amount": 10, "to": "bob"})
    assert approved.decision == "transfer"
    assert approved.decided_by == ALICE
    assert approved.decided_at == clock()
    assert await registry.get(token) == approved


async def test_skip_is_recorded(registry: ConfirmationRegistry) -> None:
    _, token = await register_transfer(registry)

    skipped = await registry.decide(token, "skip", actor=Actor("alice", "http"))

    assert skipped.status is Status.SKIPPED
    assert skipped.decision == "skip"
    assert skipped.chosen is None
    assert skipped.chosen_action is None
    assert skipped.decided_by == Actor("alice", "http")
    assert (await registry.get(token)).status is Status.SKIPPED


@pytest.mark.parametrize("decision", ["approve", "skip"])
async def test_repeating_the_recorded_decision_returns_the_recorded_outcome(
    registry: ConfirmationRegistry, clock: FakeClock, decision: str
) -> None:
    record, token = await register_transfer(registry)
    first = await registry.decide(token, decision, actor="alice", channel="chat")
    clock.advance(1)

    again = await registry.decide(token, decision, actor="mallory", channel="http")

    assert again == first
    assert again.decided_by == ALICE
    assert len(await registry.history(record.id)) == 2


async def test_a_different_decision_raises_already_decided_with_the_recorded_one(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await register_transfer(registry)
    approved = await registry.decide(token, "approve", actor="alice", channel="chat")

    with pytest.raises(AlreadyDecided) as error:
        await registry.decide(token, "skip", actor="bob", channel="http")

    assert error.value.confirmation_id == record.id
    assert error.value.decision == "transfer"
    assert error.value.status == "approved"
    assert error.value.decided_by == ALICE
    assert error.value.decided_at == approved.decided_at
    assert await registry.get(token) == approved


async def test_approving_a_skipped_confirmation_raises_already_decided(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "skip", actor="alice", channel="chat")

    with pytest.raises(AlreadyDecided) as error:
        await registry.decide(token, "approve")

    assert error.value.decision == "skip"
    assert error.value.status == "skipped"
    assert error.value.decided_by == ALICE
    assert (await registry.get(token)).status is Status.SKIPPED


async def test_skipping_an_executed_confirmation_reports_its_current_status(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_transfer(registry)
    await registry.decide(token, "approve", actor="alice", channel="chat")
    await registry.begin_execution(token)
    await registry.record_result(token, {"ok": True})

    with pytest.raises(AlreadyDecided) as error:
        await registry.decide(token, "skip")
    again = await registry.decide(token, "approve")

    assert error.value.status == "executed"
    assert error.value.decision == "transfer"
    assert again.status is Status.EXECUTED
    assert again.result == {"ok": True}


async def test_deciding_after_expiry_raises_and_records_expired_not_skipped(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    record, token = await register_transfer(registry, ttl=60)
    clock.advance(60)

    with pytest.raises(ConfirmationExpired) as error:
        await registry.decide(token, "approve")

    assert error.value.confirmation_id == record.id
    assert error.value.expired_at == record.expires_at
    expired = await registry.get(token)
    assert expired.status is Status.EXPIRED
    assert expired.decision is None
    assert transitions(await registry.history(record.id)) == [
        (None, Status.PENDING),
        (Status.PENDING, Status.EXPIRED),
    ]
    for decision in ("approve", "skip"):
        with pytest.raises(ConfirmationExpired):
            await registry.decide(token, decision)


async def test_a_decision_just_before_expiry_counts(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    _, token = await register_transfer(registry, ttl=60)
    clock.advance(59.999)

    assert (await registry.decide(token, "approve")).status is Status.APPROVED

    clock.advance(3600)
    assert (await registry.decide(token, "approve")).status is Status.APPROVED


async def test_an_invalid_decision_changes_nothing(registry: ConfirmationRegistry) -> None:
    _, token = await register_transfer(registry)

    with pytest.raises(InvalidDecision) as error:
        await registry.decide(token, "maybe")

    assert error.value.options == ("transfer",)
    assert isinstance(error.value, ValueError)
    assert (await registry.get(token)).status is Status.PENDING
    assert (await registry.decide(token, "approve")).status is Status.APPROVED


async def test_errors_belong_to_one_hierarchy() -> None:
    for error in (
        UnknownConfirmation,
        ConfirmationExpired,
        AlreadyDecided,
        ConfirmationClosed,
        InvalidDecision,
        ConfirmationNotApproved,
    ):
        assert issubclass(error, ConfirmationError)


# -- shown -------------------------------------------------------------------------


async def test_mark_shown_moves_pending_to_shown_once(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    record, token = await register_transfer(registry)
    clock.advance(1)

    shown = await registry.mark_shown(token, actor="alice", channel="ws")
    again = await registry.mark_shown(token)

    assert shown.status is Status.SHOWN
    assert again.status is Status.SHOWN
    assert shown.decided_by is None
    history = await registry.history(record.id)
    assert transitions(history) == [(None, Status.PENDING), (Status.PENDING, Status.SHOWN)]
    assert history[1].actor == Actor("alice", "ws")
    assert history[1].at == clock()


async def test_a_shown_confirmation_can_be_decided(registry: ConfirmationRegistry) -> None:
    _, token = await register_transfer(registry)
    await registry.mark_shown(token)

    assert (await registry.decide(token, "approve")).status is Status.APPROVED


async def test_mark_shown_after_the_decision_is_harmless(registry: ConfirmationRegistry) -> None:
    record, token = await register_transfer(registry)
    approved = await registry.decide(token, "approve")

    assert await registry.mark_shown(token) == approved
    assert len(await registry.history(record.id)) == 2


async def test_mark_shown_after_expiry_raises_expired(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    _, token = await register_transfer(registry, ttl=10)
    clock.advance(11)

    with pytest.raises(ConfirmationExpired):
        await registry.mark_shown(token)

    assert (await registry.get(token)).status is Status.EXPIRED


# -- choice ------------------------------------------------------------------------


async def test_several_actions_make_a_choice(registry: ConfirmationRegistry) -> None:
    record, _ = await register_choice(registry)

    assert record.kind == "choice"
    assert record.options == ("book_train", "book_flight", "book_bus")
    assert record.actions[1].label == "Fly"
    assert record.actions[2].label == "Bus"


async def test_choosing_an_option_approves_it(registry: ConfirmationRegistry) -> None:
    _, token = await register_choice(registry)

    chosen = await registry.decide(token, "book_flight", actor="alice", channel="chat")

    assert chosen.status is Status.APPROVED
    assert chosen.chosen == "book_flight"
    assert chosen.decision == "book_flight"
    assert chosen.chosen_action == ActionCall("book_flight", {"to": "Paris"}, "Fly")
    assert (await registry.get(token)).chosen_action == chosen.chosen_action


async def test_an_option_that_was_not_offered_is_refused_with_the_options(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_choice(registry)

    with pytest.raises(InvalidDecision) as error:
        await registry.decide(token, "book_taxi")

    assert error.value.options == ("book_train", "book_flight", "book_bus")
    for option in error.value.options:
        assert option in str(error.value)
    assert (await registry.get(token)).status is Status.PENDING


async def test_approve_without_an_option_is_refused_for_a_choice(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_choice(registry)

    with pytest.raises(InvalidDecision) as error:
        await registry.decide(token, "approve")

    assert error.value.options == ("book_train", "book_flight", "book_bus")
    assert (await registry.get(token)).status is Status.PENDING


async def test_a_choice_can_be_skipped(registry: ConfirmationRegistry) -> None:
    _, token = await register_choice(registry)

    skipped = await registry.decide(token, "skip")

    assert skipped.status is Status.SKIPPED
    assert skipped.chosen_action is None


async def test_choosing_another_option_after_a_choice_raises_already_decided(
    registry: ConfirmationRegistry,
) -> None:
    _, token = await register_choice(registry)
    first = await registry.decide(token, "book_train", actor="alice", channel="chat")

    assert await registry.decide(token, "book_train") == first
    with pytest.raises(AlreadyDecided) as error:
        await registry.decide(token, "book_bus")
    assert error.value.decision == "book_train"
    assert error.value.decided_by == ALICE
    with pytest.raises(AlreadyDecided):
        await registry.decide(token, "skip")


async def test_a_single_action_can_be_approved_by_its_name(registry: ConfirmationRegistry) -> None:
    _, token = await register_transfer(registry)

    by_name = await registry.decide(token, "transfer")

    assert by_name.status is Status.APPROVED
    assert await registry.decide(token, "approve") == by_name


async def test_an_option_is_named_by_its_name_or_its_label_as_written(
    registry: ConfirmationRegistry,
) -> None:
    record, _ = await register_choice(registry)

    assert record.option_named("book_train") == "book_train"
    assert record.option_named("Fly") == "book_flight"
    assert record.option_named("Bus") == "book_bus"
    assert record.option_named("fly") is None  # as written: the chat reads loosely
    assert record.option_named("skip") is None


# -- one action over several items --------------------------------------------------

TIMES = [
    ActionCall("book", {"time": "09:00"}, "09:00", option="book.1"),
    ActionCall("book", {"time": "11:30"}, "11:30", option="book.2"),
]


async def test_offers_of_one_action_are_told_apart_by_their_option_names(
    registry: ConfirmationRegistry,
) -> None:
    record, token = await registry.register(
        conversation_id="conv-1", actions=TIMES, prompt="Which time?"
    )

    assert record.kind == "choice" and record.options == ("book.1", "book.2")
    stored = await registry.get(token)  # through the store, and back
    assert stored.actions == tuple(TIMES)
    chosen = await registry.decide(token, "book.2", actor="alice")
    assert chosen.chosen == "book.2"
    assert chosen.chosen_action == TIMES[1]
    assert (await registry.get(token)).chosen_action == TIMES[1]
    assert (await registry.decide(token, "book.2")).chosen == "book.2"  # repeated
    with pytest.raises(AlreadyDecided):
        await registry.decide(token, "book.1")


async def test_the_same_action_offered_twice_needs_option_names(
    registry: ConfirmationRegistry,
) -> None:
    with pytest.raises(ValueError, match="need their own 'option' name"):
        await registry.register(
            conversation_id="conv-1",
            actions=[ActionCall("book", {"time": "09:00"}), ActionCall("book", {"time": "11:30"})],
            prompt="Which time?",
        )
    with pytest.raises(ValueError, match="'skip' is a decision"):
        await registry.register(
            conversation_id="conv-1",
            actions=[ActionCall("book", {}, option="skip"), ActionCall("book", {}, option="b")],
            prompt="Which?",
        )


NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_an_option_chosen_by_its_label_names_the_option() -> None:
    record = PendingConfirmation(
        id="c", token_hash="h", conversation_id="conv", user_id=None, kind="choice",
        actions=tuple(TIMES), prompt="?", created_at=NOW, expires_at=NOW,
    )  # fmt: skip
    assert record.option_named("11:30") == "book.2"
    assert record.option_named("book.1") == "book.1"
    assert record.option_named("book") is None


@pytest.mark.parametrize("reserved", ["approve", "skip"])
@pytest.mark.parametrize("kind", ["single", "choice"])
async def test_an_option_named_like_a_decision_is_refused(
    registry: ConfirmationRegistry, reserved: str, kind: str
) -> None:
    actions: list[Any] = [(reserved, {"n": 1})]
    if kind == "choice":
        actions.insert(0, ("book_train", {"to": "Paris"}))

    with pytest.raises(ValueError, match=reserved):
        await registry.register(conversation_id="conv-1", actions=actions, prompt="Go?")

    assert await registry.list() == []


async def test_listing_by_conversation_prefix_newest_first(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    # The inbox's query: one user's conversations (ids qualified "alice/..."), the
    # newest first, so that a limit keeps the latest — in every store alike.
    made = []
    for conversation in ("alice/c1", "bob/c1", "alice/c2", "alice%/c3", "alice_x/c4"):
        made.append((await register_transfer(registry, conversation_id=conversation))[0])
        clock.advance(1)
    alice = await registry.list(conversation_prefix="alice/", newest_first=True)
    assert [r.conversation_id for r in alice] == ["alice/c2", "alice/c1"]
    latest = await registry.list(conversation_prefix="alice/", newest_first=True, limit=1)
    assert [r.conversation_id for r in latest] == ["alice/c2"]
    oldest_first = await registry.list(conversation_prefix="alice")
    assert [r.conversation_id for r in oldest_first] == [
        "alice/c1",
        "alice/c2",
        "alice%/c3",
        "alice_x/c4",
    ]
    assert await registry.list(conversation_prefix="carol/") == []


async def test_listing_the_latest_changed_first(
    registry: ConfirmationRegistry, clock: FakeClock
) -> None:
    # An inbox's history: an old confirmation decided just now comes first.
    old, old_token = await register_transfer(registry, conversation_id="alice/c1")
    clock.advance(10)
    new, new_token = await register_transfer(registry, conversation_id="alice/c2")
    clock.advance(10)
    await registry.decide(new_token, "skip")
    clock.advance(10)
    await registry.decide(old_token, "skip")
    changed = await registry.list(status="skipped", changed_first=True, limit=1)
    assert [r.id for r in changed] == [old.id]
    created = await registry.list(status="skipped", newest_first=True, limit=1)
    assert [r.id for r in created] == [new.id]
