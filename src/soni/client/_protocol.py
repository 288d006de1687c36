"""The wire format of the WebSocket protocol, as the client speaks it.

Every frame is a JSON envelope ``{"session_id", "local_timestamp", "payload"}``.
The client sends ``instruction`` payloads; the server answers each with a
``response`` in the same session and pushes ``event`` payloads to sessions that
subscribed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

from soni.client.errors import (
    ClientError,
    Conflict,
    Gone,
    InvalidRequest,
    NotFound,
    ProtocolError,
    Unauthorized,
)


class Envelope(TypedDict):
    session_id: str | None
    local_timestamp: str
    payload: dict[str, Any]


class Instruction(TypedDict):
    type: Literal["instruction"]
    name: str
    args: NotRequired[dict[str, Any]]


class Problem(TypedDict, total=False):
    type: str
    title: str
    status: int
    detail: str


class Response(TypedDict):
    type: Literal["response"]
    ok: bool
    result: NotRequired[dict[str, Any]]
    error: NotRequired[Problem]


@dataclass(frozen=True, slots=True)
class Frame:
    """A received envelope: its session and its payload (a dict with a ``type``)."""

    session_id: str | None
    payload: dict[str, Any]

    @property
    def kind(self) -> object:
        return self.payload.get("type")


def new_session_id() -> str:
    return uuid.uuid4().hex


def encode_instruction(session_id: str, name: str, args: Mapping[str, Any] | None = None) -> str:
    instruction: Instruction = {"type": "instruction", "name": name}
    if args is not None:
        instruction["args"] = dict(args)
    envelope: Envelope = {
        "session_id": session_id,
        "local_timestamp": datetime.now().astimezone().isoformat(),
        "payload": dict(instruction),
    }
    return json.dumps(envelope, separators=(",", ":"))


def decode_frame(raw: str | bytes) -> Frame | None:
    """The envelope in ``raw``, or ``None`` when it is not one (not JSON, no payload, ...)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    payload = data.get("payload")
    session_id = data.get("session_id")
    if not isinstance(payload, dict) or not (session_id is None or isinstance(session_id, str)):
        return None
    return Frame(session_id, payload)


def result_of(name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The result of a ``response`` payload; an error response raises its ``ClientError``."""
    ok = payload.get("ok")
    if ok is True:
        result = payload.get("result", {})
        if not isinstance(result, dict):
            raise ProtocolError(f"the result of {name!r} is not an object")
        return result
    if ok is False:
        raise error_from_problem(payload.get("error"))
    raise ProtocolError(f"the response to {name!r} has no boolean 'ok'")


_BY_STATUS: dict[int, type[ClientError]] = {
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    410: Gone,
    422: InvalidRequest,
}


def error_from_problem(problem: object) -> ClientError:
    """The ``ClientError`` subclass for an error object ``{type, title, status, detail}``."""
    if not isinstance(problem, Mapping):
        return ProtocolError(f"an error response without an error object: {problem!r}")
    status = problem.get("status")
    status = status if isinstance(status, int) and not isinstance(status, bool) else None
    title = _text(problem.get("title"))
    detail = _text(problem.get("detail"))
    message = " ".join(part for part in (str(status or ""), title or "error") if part)
    if detail:
        message = f"{message}: {detail}"
    if status == 409:
        return Conflict(
            message,
            # soni's server sends the recorded decision as "decision".
            recorded=problem.get("recorded", problem.get("decision")),
            title=title,
            detail=detail,
            problem=problem,
        )
    cls = _BY_STATUS.get(status, ClientError) if status is not None else ClientError
    return cls(message, status=status, title=title, detail=detail, problem=problem)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
