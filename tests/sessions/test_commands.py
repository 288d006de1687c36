"""Bad calls get a typed error; the registry goes on serving."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from soni.errors import SoniError
from soni.sessions import SessionCommandError, SessionEvent, SessionRegistry

from .conftest import turn


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"conversation_id": ""}, "conversation_id must be a non-empty string"),
        ({"conversation_id": None}, "conversation_id must be a non-empty string"),
        ({"status": ""}, "status must be a non-empty string"),
        ({"pending": -1}, "pending must be a count"),
        ({"pending": True}, "pending must be a count"),
        ({"pending": "2"}, "pending must be a count"),
        ({"active_flow": 3}, "active_flow must be a string or None"),
        ({"user_id": b"alice"}, "user_id must be a string or None"),
        ({"replies": "hello"}, "replies must be a list of mappings"),
        ({"replies": ["hello"]}, "replies must be a list of mappings"),
    ],
)
async def test_a_turn_with_bad_arguments_is_refused(
    sessions: SessionRegistry, arguments: dict[str, Any], message: str
) -> None:
    call: dict[str, Any] = {
        "conversation_id": "c1",
        "status": "active",
        "pending": 0,
        "active_flow": None,
        "user_id": None,
    }
    call.update(arguments)
    conversation_id = call.pop("conversation_id")
    with pytest.raises(SessionCommandError, match=message) as caught:
        await sessions.record_turn(conversation_id, **call)
    assert isinstance(caught.value, SoniError)
    assert caught.value.command == "record_turn"
    assert await sessions.list() == []  # nothing half-done


async def test_every_bad_call_is_refused_and_the_registry_keeps_serving(
    sessions: SessionRegistry,
) -> None:
    bad_calls: list[tuple[Callable[[], Awaitable[Any]], str]] = [
        (lambda: sessions.publish("turn"), "expected a SessionEvent"),  # type: ignore[arg-type]
        (
            lambda: sessions.publish(SessionEvent("ended", "c1")),  # type: ignore[arg-type]
            "unknown event type",
        ),
        (lambda: sessions.publish(SessionEvent("lagged", "c1")), "sent by the registry only"),
        (lambda: sessions.publish(SessionEvent("turn", "")), "conversation_id"),
        (lambda: sessions.remove("", "reset"), "conversation_id"),
        (lambda: sessions.remove("c1", ""), "reason must be a non-empty string"),
        (lambda: sessions.get(""), "conversation_id"),
    ]
    for call, message in bad_calls:
        with pytest.raises(SessionCommandError, match=message):
            await call()
        await turn(sessions, "c1")
    info = await sessions.get("c1")
    assert info is not None
    assert info.status == "awaiting_input"


async def test_a_refused_posted_turn_is_logged(
    sessions: SessionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="soni.sessions"):
        sessions.post_turn("c1", status="active", pending=-1, active_flow=None, user_id=None)
    assert any("pending must be a count" in r.getMessage() for r in caplog.records)
    assert await sessions.list() == []


def test_the_error_keeps_its_context_through_pickling() -> None:
    import pickle

    error = SessionCommandError("get", "conversation_id must be a non-empty string, got ''")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.command, copy.reason, str(copy)) == (error.command, error.reason, str(error))
