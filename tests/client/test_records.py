"""Answers read into records, checked as they are read."""

from datetime import UTC, datetime

import pytest

from soni.client.errors import ProtocolError
from soni.client.records import (
    BotMessage,
    decision_from_wire,
    event_from_wire,
    reply_from_wire,
)


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


def test_what_the_server_answers_reads_back_as_the_same_record() -> None:
    from soni.wire import ActorOut, ConfirmationOut, DecisionOut, PendingOut, ReplyOut

    at = datetime(2030, 1, 1, tzinfo=UTC)
    pending = PendingOut(
        id="p2", token="t2", prompt="And?", options=("a",), labels=("A",), expires_at=at
    )
    sent = DecisionOut(
        conversation_id="c1",
        decision="execute_transfer",
        status="awaiting_confirmation",
        active_flow="transfer",
        replies=(ReplyOut("Done.", "text"),),
        pending=(pending,),
        confirmation=ConfirmationOut(
            id="p1",
            conversation_id="c1",
            user_id="ann",
            status="approved",
            kind="single",
            prompt="Send?",
            options=("execute_transfer",),
            labels=(None,),
            created_at=at,
            expires_at=at,
            decision="execute_transfer",
            decided_by=ActorOut(user_id="ann", channel="ws"),
            decided_at=at,
            result=None,
            error=None,
        ),
    )

    read = decision_from_wire(sent.model_dump(mode="json"))

    assert read == sent
    assert read.confirmation is not None
    assert read.confirmation.decided_by == ActorOut(user_id="ann", channel="ws")


def test_a_status_or_kind_the_client_does_not_know_is_kept_as_text() -> None:
    assert reply_from_wire({"conversation_id": "c1", "status": "paused"}).status == "paused"
    decision = decision_from_wire(
        {
            "decision": "skip",
            "status": "ended",
            "conversation_id": "c1",
            "confirmation": {
                "id": "p1",
                "conversation_id": "c1",
                "user_id": None,
                "status": "archived",
                "kind": "several",
                "prompt": "",
                "options": [],
                "labels": [],
                "created_at": "2030-01-01T00:00:00Z",
                "expires_at": "2030-01-01T00:00:00Z",
                "decision": "skip",
                "decided_by": None,
                "decided_at": None,
                "result": None,
                "error": None,
            },
        }
    )
    assert decision.replies == ()
    assert decision.confirmation is not None
    assert (decision.confirmation.status, decision.confirmation.kind) == ("archived", "several")
