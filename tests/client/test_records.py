"""Answers read into records, checked as they are read."""

from datetime import UTC, datetime

import pytest

from soni.client.records import (
    BotMessage,
    decision_from_wire,
    event_from_wire,
    reply_from_wire,
)
from soni.errors import ProtocolError


def test_a_minimal_reply_gets_defaults() -> None:
    reply = reply_from_wire({"conversation_id": "c1", "replies": [{"text": "hi"}]})
    assert reply.replies == (BotMessage("hi", "text"),)
    assert str(reply.replies[0]) == "hi"
    assert reply.pending == ()
    assert reply.status == "active"
    assert reply.active_flow is None


def test_a_pending_confirmation_is_read() -> None:
    reply = reply_from_wire(
        {
            "conversation_id": "c1",
            "pending": [
                {
                    "id": "p1",
                    "token": None,
                    "prompt": "Which?",
                    "options": ["a", "b"],
                    "labels": ["A", None],
                    "expires_at": "2030-01-01T00:00:00Z",
                }
            ],
        }
    )
    (pending,) = reply.pending
    assert pending.token is None
    assert pending.options == ("a", "b")
    assert pending.labels == ("A", None)
    assert pending.expires_at == datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({}, "message result has no 'conversation_id'"),
        ({"conversation_id": 1}, "message result.conversation_id should be str, got int"),
        ({"conversation_id": "c", "replies": [3]}, "message result.replies[0] is not an object"),
        ({"conversation_id": "c", "replies": [{}]}, "message result.replies[0] has no 'text'"),
        ({"conversation_id": "c", "pending": [{"token": "t"}]}, "pending[0] has no 'id'"),
        ({"conversation_id": "c", "active_flow": 2}, "active_flow should be str or null"),
    ],
)
def test_a_malformed_reply_names_the_field(result: dict[str, object], message: str) -> None:
    with pytest.raises(ProtocolError, match=message.replace("[", r"\[").replace("]", r"\]")):
        reply_from_wire(result)


def test_a_decision_is_read() -> None:
    decision = decision_from_wire(
        {"decision": "approve", "status": "executed", "conversation_id": "c1", "replies": []}
    )
    assert (decision.decision, decision.status, decision.texts) == ("approve", "executed", [])
    with pytest.raises(ProtocolError, match="decide result has no 'status'"):
        decision_from_wire({"decision": "approve", "conversation_id": "c1"})


def test_an_event_is_read_with_an_unreadable_time_left_out() -> None:
    event = event_from_wire({"event": "turn", "conversation_id": "c1", "at": "yesterday"})
    assert (event.type, event.conversation_id, event.data, event.at) == ("turn", "c1", {}, None)
    with pytest.raises(ProtocolError):
        event_from_wire({"conversation_id": "c1"})
