"""The wire models: documented as strictly as the server answers, read as leniently as a
client needs."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import BaseModel

from soni.wire import DecisionOut, EventOut, PendingOut, TurnOut, TurnStatus


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    # As FastAPI documents an answer: in serialization mode.
    return model.model_json_schema(mode="serialization")


@pytest.mark.parametrize("model", [TurnOut, PendingOut, DecisionOut])
def test_a_member_a_reader_may_miss_is_still_documented_as_always_sent(
    model: type[BaseModel],
) -> None:
    assert _schema(model)["required"] == list(model.model_fields)
    for member in _schema(model)["properties"].values():
        assert "default" not in member


def test_a_reader_fills_in_what_an_answer_leaves_out() -> None:
    turn = TurnOut.model_validate({"conversation_id": "c1"})
    assert (turn.replies, turn.pending, turn.status, turn.active_flow) == ((), (), "active", None)
    decision = DecisionOut.model_validate(
        {"conversation_id": "c1", "decision": "skip", "status": None}
    )
    assert (decision.replies, decision.pending, decision.confirmation) == ((), (), None)


def test_a_status_is_documented_as_one_of_the_statuses_and_read_as_text() -> None:
    properties = _schema(DecisionOut)["properties"]
    assert properties["status"]["anyOf"][0]["enum"] == list(get_args(TurnStatus))
    # The server always sends the decided confirmation: never documented as null.
    assert properties["confirmation"] == {"$ref": "#/$defs/ConfirmationOut"}
    assert TurnOut.model_validate({"conversation_id": "c1", "status": "later"}).status == "later"


def test_a_timestamp_a_reader_cannot_read_is_none_but_documented_as_a_time() -> None:
    event = EventOut.model_validate({"event": "turn", "at": "yesterday"})
    assert (event.type, event.conversation_id, event.data, event.at) == ("turn", None, {}, None)
    assert _schema(PendingOut)["properties"]["expires_at"] == {
        "format": "date-time",
        "title": "Expires At",
        "type": "string",
    }
