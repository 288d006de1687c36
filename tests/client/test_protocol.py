"""The client's side of the wire format: envelopes, answers and error mapping."""

import json
from datetime import datetime

import pytest

from soni.client._protocol import decode_frame, encode_instruction, error_from_problem, result_of
from soni.client.errors import (
    ClientError,
    Conflict,
    Gone,
    InvalidRequest,
    NotFound,
    ProtocolError,
    Unauthorized,
)
from soni.errors import SoniError


def test_an_instruction_is_an_envelope() -> None:
    frame = json.loads(encode_instruction("abc", "decide", {"token": "t", "decision": "skip"}))
    assert frame["session_id"] == "abc"
    assert datetime.fromisoformat(frame["local_timestamp"]).tzinfo is not None
    assert frame["payload"] == {
        "type": "instruction",
        "name": "decide",
        "args": {"token": "t", "decision": "skip"},
    }
    bare = json.loads(encode_instruction("abc", "unsubscribe"))
    assert bare["payload"] == {"type": "instruction", "name": "unsubscribe"}


@pytest.mark.parametrize(
    "raw", ["not json", "[1]", '{"session_id": "a"}', '{"session_id": 3, "payload": {}}', "{}"]
)
def test_what_is_not_an_envelope_decodes_to_none(raw: str) -> None:
    assert decode_frame(raw) is None


def test_an_envelope_decodes() -> None:
    frame = decode_frame('{"session_id": null, "payload": {"type": "event"}}')
    assert frame is not None
    assert frame.session_id is None
    assert frame.kind == "event"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, Unauthorized),
        (403, Unauthorized),
        (404, NotFound),
        (409, Conflict),
        (410, Gone),
        (422, InvalidRequest),
        (413, ClientError),
        (500, ClientError),
    ],
)
def test_errors_map_by_status(status: int, error: type[ClientError]) -> None:
    problem = {"type": "about:blank", "title": "T", "status": status, "detail": "why", "x": 1}
    mapped = error_from_problem(problem)
    assert type(mapped) is error
    assert isinstance(mapped, SoniError)
    assert (mapped.status, mapped.title, mapped.detail) == (status, "T", "why")
    assert mapped.problem["x"] == 1
    assert str(mapped) == f"{status} T: why"


def test_an_error_without_details_still_reads_well() -> None:
    assert str(error_from_problem({})) == "error"
    assert isinstance(error_from_problem("oops"), ProtocolError)
    assert error_from_problem({"status": True}).status is None


@pytest.mark.parametrize("field", ["recorded", "decision"])
def test_a_conflict_carries_the_recorded_decision(field: str) -> None:
    conflict = error_from_problem({"status": 409, field: "skip"})
    assert isinstance(conflict, Conflict)
    assert conflict.recorded == "skip"


def test_a_conflict_without_a_recorded_decision() -> None:
    conflict = error_from_problem({"status": 409, "title": "Conflict"})
    assert isinstance(conflict, Conflict)
    assert conflict.recorded is None


@pytest.mark.parametrize(
    "payload",
    [{"type": "response"}, {"type": "response", "ok": "yes"}, {"ok": True, "result": [1]}],
)
def test_a_response_that_breaks_the_protocol(payload: dict[str, object]) -> None:
    with pytest.raises(ProtocolError):
        result_of("message", payload)


def test_results_and_errors_of_responses() -> None:
    assert result_of("message", {"ok": True, "result": {"a": 1}}) == {"a": 1}
    assert result_of("unsubscribe", {"ok": True}) == {}
    with pytest.raises(NotFound):
        result_of("decide", {"ok": False, "error": {"status": 404}})
