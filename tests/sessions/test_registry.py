"""Lifecycle: the events a conversation produces, what the map holds, start and stop."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time

import pytest

from soni.sessions import SessionCommandError, SessionEvent, SessionInfo, SessionRegistry

from .conftest import TIMEOUT, RegistryFactory, drain, kinds, take, turn


async def test_a_conversation_s_events_arrive_in_order(sessions: SessionRegistry) -> None:
    async with sessions.subscribe() as subscription:
        await turn(sessions, "c1", replies=[{"text": "How much?", "kind": "text"}])
        await turn(sessions, "c1", status="awaiting_confirmation", pending=1)
        await sessions.publish(SessionEvent("confirmation_decided", "c1", {"decision": "skip"}))
        await turn(sessions, "c1", status="ended", active_flow=None)
        assert await sessions.remove("c1", "reset")
        events = await take(subscription, 7)

    assert kinds(events) == [
        ("session_started", "c1"),
        ("turn", "c1"),
        ("turn", "c1"),
        ("awaiting_confirmation", "c1"),
        ("confirmation_decided", "c1"),
        ("turn", "c1"),
        ("session_removed", "c1"),
    ]
    started, first, second, waiting, _, last, removed = events
    assert started.data == {"user_id": "alice"}
    assert first.data == {
        "status": "awaiting_input",
        "active_flow": "transfer",
        "pending": 0,
        "replies": [{"text": "How much?", "kind": "text"}],
    }
    assert second.data["status"] == "awaiting_confirmation"
    assert second.data["replies"] == []
    assert waiting.data == {"pending": 1, "active_flow": "transfer"}
    assert last.data["active_flow"] is None
    assert removed.data == {"reason": "reset", "user_id": "alice"}
    assert all(event.at.tzinfo is UTC for event in events)
    assert [event.at for event in events] == sorted(event.at for event in events)


async def test_the_map_follows_the_turns(sessions: SessionRegistry) -> None:
    assert await sessions.get("c1") is None
    await turn(sessions, "c1", user_id="alice")
    first = await sessions.get("c1")
    await turn(sessions, "c2", user_id="bob")
    await turn(sessions, "c1", status="awaiting_confirmation", pending=2, user_id=None)

    info = await sessions.get("c1")
    assert isinstance(info, SessionInfo)
    assert first is not None
    assert info.user_id == "alice"  # a turn without a user keeps the known one
    assert info.status == "awaiting_confirmation"
    assert info.pending == 2
    assert info.active_flow == "transfer"
    assert info.started_at == first.started_at
    assert info.last_active > first.last_active
    assert [i.conversation_id for i in await sessions.list()] == ["c1", "c2"]

    assert await sessions.remove("c1", "reset") is True
    assert await sessions.remove("c1", "reset") is False
    assert await sessions.get("c1") is None
    assert [i.conversation_id for i in await sessions.list()] == ["c2"]


async def test_removing_an_unknown_conversation_emits_nothing(sessions: SessionRegistry) -> None:
    async with sessions.subscribe() as subscription:
        assert await sessions.remove("nobody", "reset") is False
        await turn(sessions, "c1")
        assert kinds(await take(subscription, 1)) == [("session_started", "c1")]


async def test_an_event_is_json_data() -> None:
    at = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    event = SessionEvent(
        "turn", "c1", {"replies": ({"text": "hi"},), "when": at, "nested": {"n": 1}}, at
    )
    data = event.to_data()
    assert data == {
        "type": "turn",
        "conversation_id": "c1",
        "data": {"replies": [{"text": "hi"}], "when": at.isoformat(), "nested": {"n": 1}},
        "at": "2030-01-01T12:00:00+00:00",
    }
    assert json.loads(json.dumps(data)) == data
    with pytest.raises(TypeError):
        event.data["x"] = 1  # type: ignore[index]


async def test_slot_values_of_every_date_and_time_type_are_iso_text_in_an_event() -> None:
    slots = {"day": date(2030, 1, 1), "time": time(19, 30), "visit": datetime(2030, 1, 1, 9)}
    data = SessionEvent("turn", "c1", {"slots": slots}).to_data()
    assert data["data"] == {
        "slots": {"day": "2030-01-01", "time": "19:30:00", "visit": "2030-01-01T09:00:00"}
    }
    assert json.loads(json.dumps(data)) == data


async def test_an_event_s_data_does_not_follow_later_changes_to_the_caller_s_dict() -> None:
    source = {"n": 1}
    event = SessionEvent("turn", "c1", source)
    source["n"] = 2
    assert event.data == {"n": 1}


async def test_stop_ends_every_subscriber_s_iteration(sessions: SessionRegistry) -> None:
    everything = sessions.subscribe()
    one = sessions.subscribe("c1")
    other = sessions.subscribe("c2")
    for subscription in (everything, one, other):
        await subscription.open()
    readers = [asyncio.create_task(drain(s)) for s in (everything, one, other)]
    await turn(sessions, "c1")

    await asyncio.wait_for(sessions.stop(), TIMEOUT)

    seen_all, seen_one, seen_other = await asyncio.wait_for(asyncio.gather(*readers), TIMEOUT)
    assert kinds(seen_all) == [("session_started", "c1"), ("turn", "c1")]
    assert kinds(seen_one) == kinds(seen_all)
    assert seen_other == []


async def test_commands_before_start_and_after_stop_are_refused() -> None:
    registry = SessionRegistry()
    with pytest.raises(SessionCommandError, match="not running: call start"):
        await registry.get("c1")
    with pytest.raises(SessionCommandError, match="not running"):
        await registry.subscribe().open()

    await registry.start()
    assert registry.running
    with pytest.raises(SessionCommandError, match="start"):
        await registry.start()
    await turn(registry, "c1")
    await registry.stop()
    await registry.stop()  # idempotent
    assert not registry.running

    with pytest.raises(SessionCommandError, match="stopped") as caught:
        await turn(registry, "c1")
    assert caught.value.command == "record_turn"
    with pytest.raises(SessionCommandError, match="stopped"):
        await registry.list()
    with pytest.raises(SessionCommandError, match="stopped"):
        async with registry.subscribe():
            pass
    with pytest.raises(SessionCommandError):
        await registry.start()


async def test_stop_before_start_is_harmless() -> None:
    registry = SessionRegistry()
    await registry.stop()
    with pytest.raises(SessionCommandError, match="stopped"):
        await registry.get("c1")


async def test_commands_sent_before_stop_are_answered(make_sessions: RegistryFactory) -> None:
    sessions = await make_sessions()
    turns = [asyncio.create_task(turn(sessions, f"c{i}")) for i in range(20)]
    await asyncio.sleep(0)  # the turns are queued before the stop
    await asyncio.wait_for(sessions.stop(), TIMEOUT)
    await asyncio.wait_for(asyncio.gather(*turns), TIMEOUT)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_sessions": 0},
        {"max_sessions": True},
        {"idle_ttl": 0},
        {"clean_interval": -1.0},
        {"queue_size": 0},
    ],
)
def test_settings_out_of_range_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SessionRegistry(**settings)  # type: ignore[arg-type]


async def test_a_posted_turn_is_recorded_in_order_without_waiting(
    sessions: SessionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    async with sessions.subscribe("p1") as subscription:
        for status in ("awaiting_input", "active", "ended"):
            sessions.post_turn("p1", status=status, pending=0, active_flow=None, user_id="u")
        sessions.post_turn("", status="x", pending=0, active_flow=None, user_id=None)  # bad
        events = await take(subscription, 4)

    assert [e.type for e in events] == ["session_started", "turn", "turn", "turn"]
    assert [e.data["status"] for e in events[1:]] == ["awaiting_input", "active", "ended"]
    info = await sessions.get("p1")
    assert info is not None and info.status == "ended"  # the actor went on after the bad one
