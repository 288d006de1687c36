"""``/confirmations`` and ``/decisions``: deciding out of band, and waiting for decisions."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from soni.confirmations.protocol import MESSAGE_PATTERN
from soni.server.errors import InvalidInput
from soni.server.routing import SoniRoute, read_json
from soni.server.schemas import ChooseIn, DecisionMessageIn
from soni.server.state import KeyCaller, State, TokenCaller
from soni.wire import ConfirmationOut, DecisionOut, InboxOut

__all__ = ("router",)

router = APIRouter(tags=["confirmations"], route_class=SoniRoute)

# No length rule: a malformed token is an unknown one (404), not an invalid request.
Token = Annotated[str, Path()]


@router.post("/confirmations/{token}/approve")
async def approve(token: Token, state: State, caller: TokenCaller) -> DecisionOut:
    """Approve the confirmation's action; the conversation resumes and its replies return."""
    return await state.conversations.decide(caller, token, "approve", channel="http")


@router.post("/confirmations/{token}/skip")
async def skip(token: Token, state: State, caller: TokenCaller) -> DecisionOut:
    """Skip the confirmation's action; the conversation resumes and its replies return."""
    return await state.conversations.decide(caller, token, "skip", channel="http")


@router.post("/confirmations/{token}/choose")
async def choose(token: Token, body: ChooseIn, state: State, caller: TokenCaller) -> DecisionOut:
    """Approve one of several offered actions by name."""
    return await state.conversations.decide(caller, token, body.option, channel="http")


@router.get("/confirmations")
async def inbox(
    state: State,
    caller: KeyCaller,
    status: Annotated[
        Literal["open", "closed"],
        Query(description="open: waiting for a decision (with tokens); closed: the rest."),
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=1000, description="The newest this many.")] = 200,
) -> InboxOut:
    """The caller's confirmations across its conversations, newest first (the inbox)."""
    return await state.conversations.inbox(caller, open_=status == "open", limit=limit)


@router.get("/confirmations/{token}")
async def get_confirmation(
    token: Token,
    state: State,
    caller: TokenCaller,
    wait: Annotated[
        float,
        Query(
            ge=0,
            description="Seconds to wait for a decision or the expiry before answering "
            "(capped by the server's long_poll_max).",
        ),
    ] = 0,
) -> ConfirmationOut:
    """The confirmation's status; with ``?wait=`` a long poll until it is decided or expires."""
    return await state.conversations.confirmation(caller, token, wait)


# Shaped like a token (22 to 128 URL-safe characters), opening nothing: the examples
# are well-formed messages, which an unknown token answers with 404.
_EXAMPLE_TOKEN = "Qm9iLXRyYW5zZmVyLXRva2VuLTAx"

_DECISION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {
                "schema": {"type": "string", "pattern": MESSAGE_PATTERN},
                "example": f"EXECUTE:{_EXAMPLE_TOKEN}",
            },
            "application/json": {
                "schema": DecisionMessageIn.model_json_schema(),
                "example": {"message": f"CHOOSE:{_EXAMPLE_TOKEN}:execute_transfer"},
            },
        },
    }
}


@router.post("/decisions", openapi_extra=_DECISION_BODY)
async def post_decision(request: Request, state: State, caller: TokenCaller) -> DecisionOut:
    """Apply a decision protocol message.

    ``EXECUTE:<token>``, ``SKIP:<token>``, ``CHOOSE:<token>:<option>`` or
    ``SHOWN:<token>``, as the text body or as JSON ``{"message": ...}``.
    """
    message = _decision_text(await request.body(), request.headers.get("content-type", ""))
    return await state.conversations.decision_message(caller, message, channel="http")


def _decision_text(body: bytes, content_type: str) -> str:
    media = content_type.partition(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            data = read_json(body)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc.msg}") from None
        try:
            return DecisionMessageIn.model_validate(data).message
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_input=False)) from None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body is not UTF-8 text") from None
