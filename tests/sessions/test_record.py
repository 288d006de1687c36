"""record(): a bot's event stream feeds the registry, in the bot's order."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pytest

from soni.actions import ActionSpec
from soni.engine import Bot, ConversationReset, ReplyView, TurnCompleted
from soni.sessions import SessionCommandError, SessionRegistry
from soni.wire import TurnStatus

from .conftest import drain, kinds, take

BANKING = Path(__file__).resolve().parents[2] / "examples" / "banking"


def completed(
    conversation_id: str,
    status: TurnStatus = "awaiting_input",
    *,
    pending: int = 0,
    active_flow: str | None = "transfer",
    user_id: str | None = "alice",
    replies: tuple[ReplyView, ...] = (),
) -> TurnCompleted:
    return TurnCompleted(
        conversation_id, status, pending, active_flow, replies, user_id, remote=False
    )


async def test_turns_and_resets_are_recorded_in_the_order_given(
    sessions: SessionRegistry,
) -> None:
    async with sessions.subscribe() as subscription:
        # Synchronously, one after the other, as a bot's event handler calls it.
        sessions.record(completed("c1", replies=(ReplyView("How much?"),)))
        sessions.record(
            completed(
                "c1",
                "awaiting_confirmation",
                pending=1,
                user_id=None,
                replies=(ReplyView("Send 50 EUR?", "confirmation"),),
            )
        )
        sessions.record(ConversationReset("c1", remote=True))
        sessions.record(completed("c1", "ended", active_flow=None, user_id="bob"))
        events = await take(subscription, 7)

    assert kinds(events) == [
        ("session_started", "c1"),
        ("turn", "c1"),
        ("turn", "c1"),
        ("awaiting_confirmation", "c1"),
        ("session_removed", "c1"),
        ("session_started", "c1"),
        ("turn", "c1"),
    ]
    assert events[1].data == {
        "status": "awaiting_input",
        "active_flow": "transfer",
        "pending": 0,
        "replies": [{"text": "How much?", "kind": "text"}],
    }
    assert events[2].data["replies"] == [{"text": "Send 50 EUR?", "kind": "confirmation"}]
    assert events[3].data == {"pending": 1, "active_flow": "transfer"}
    assert events[4].data == {"reason": "reset", "user_id": "alice"}
    assert events[5].data == {"user_id": "bob"}
    info = await sessions.get("c1")
    assert info is not None
    assert (info.status, info.pending, info.active_flow, info.user_id) == (
        "ended",
        0,
        None,
        "bob",
    )


async def test_resetting_a_conversation_not_in_the_map_is_quiet(
    sessions: SessionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    async with sessions.subscribe() as subscription:
        with caplog.at_level(logging.WARNING, logger="soni.sessions"):
            sessions.record(ConversationReset("nobody", remote=False))
        sessions.record(completed("c1"))
        assert kinds(await take(subscription, 1)) == [("session_started", "c1")]
    assert caplog.records == []


async def test_a_bot_s_event_stream_feeds_the_registry(
    sessions: SessionRegistry, handlers: Mapping[str, ActionSpec]
) -> None:
    async with (
        await Bot.load(BANKING, db=":memory:") as bot,
        sessions.subscribe("c1") as subscription,
    ):
        unsubscribe = bot.events.subscribe(sessions.record)
        await bot.handle("c1", "/check_balance", user_id="alice")
        assert await sessions.get("c1") is not None
        await bot.handle("c1", "checking", user_id="alice")
        await bot.reset("c1")
        unsubscribe()
        events = await take(subscription, 4)

    assert kinds(events) == [
        ("session_started", "c1"),
        ("turn", "c1"),
        ("turn", "c1"),
        ("session_removed", "c1"),
    ]
    assert events[1].data["status"] == "awaiting_input"
    assert events[1].data["replies"] == [
        {"text": "Which account: checking or savings?", "kind": "text"}
    ]
    assert events[2].data["status"] == "ended"
    assert events[3].data == {"reason": "reset", "user_id": "alice"}
    assert await sessions.list() == []


async def test_what_is_not_a_bot_event_is_refused(sessions: SessionRegistry) -> None:
    with pytest.raises(SessionCommandError, match="expected a bot event") as caught:
        sessions.record({"conversation_id": "c1"})  # type: ignore[arg-type]
    assert caught.value.command == "record"


async def test_a_turn_the_registry_refuses_is_logged_not_raised(
    sessions: SessionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="soni.sessions"):
        sessions.record(completed(""))
    assert any("conversation_id must be" in r.getMessage() for r in caplog.records)
    assert await sessions.list() == []


async def test_events_recorded_while_not_running_are_dropped() -> None:
    registry = SessionRegistry()
    registry.record(completed("early"))  # not started: dropped, no error
    await registry.start()
    subscription = registry.subscribe()
    await subscription.open()
    registry.record(completed("c1"))
    await registry.stop()
    registry.record(completed("late"))  # stopped: dropped, no error
    assert kinds(await drain(subscription)) == [("session_started", "c1"), ("turn", "c1")]


async def test_a_bots_confirmations_reach_the_registry_through_the_same_stream(
    sessions: SessionRegistry, handlers: Mapping[str, ActionSpec]
) -> None:
    async with (
        await Bot.load(BANKING, db=":memory:") as bot,
        sessions.subscribe("t1") as subscription,
    ):
        unsubscribe = bot.events.subscribe(sessions.record)
        for text in ("I want to send money", "Bob", "50"):
            await bot.handle("t1", text, user_id="alice")
        asked = await bot.handle("t1", "DE89370400440532013000", user_id="alice")
        (pending,) = asked.pending
        assert pending.token is not None
        await bot.decide(pending.token, "approve", actor="alice", channel="api")
        unsubscribe()
        events = await take(subscription, 10)

    assert kinds(events)[4:] == [
        ("confirmation_requested", "t1"),
        ("turn", "t1"),
        ("awaiting_confirmation", "t1"),
        ("confirmation_decided", "t1"),
        ("action_executed", "t1"),
        ("turn", "t1"),
    ]
    assert events[4].data["confirmation_id"] == pending.confirmation_id
    assert events[8].data["ok"] is True
