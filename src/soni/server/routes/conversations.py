"""``/conversations``: chat turns, a conversation's state, reset, its confirmations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from soni.server.routing import SoniRoute
from soni.server.schemas import MessageIn
from soni.server.state import KeyCaller, State
from soni.wire import ConfirmationsOut, ConversationOut, TurnOut

__all__ = ("router",)

router = APIRouter(prefix="/conversations", tags=["conversations"], route_class=SoniRoute)

# No "/": the path could not carry one, and with API keys on it separates the
# user from the id (``namespace``).
ConversationId = Annotated[str, Path(min_length=1, max_length=256, pattern="^[^/]+$")]


@router.post("/{conversation_id}/messages", response_model=TurnOut)
async def post_message(
    conversation_id: ConversationId, body: MessageIn, state: State, caller: KeyCaller
) -> Response:
    """Send a chat message; the answer is the bot's replies and what it waits for.

    Messages to one conversation are processed one at a time, in arrival order
    (or refused with 409 while one runs, with ``busy_policy="reject"``).
    """
    turn = await state.conversations.message(
        caller, conversation_id, body.text, user_id=body.user_id
    )
    # The hot path: serialised once by the model itself, not validated again
    # against the response model as FastAPI would (the schema still documents it).
    return Response(turn.model_dump_json(), media_type="application/json")


@router.get("/{conversation_id}")
async def get_conversation(
    conversation_id: ConversationId, state: State, caller: KeyCaller
) -> ConversationOut:
    """The conversation's active flow, slots, open confirmations and last replies."""
    return await state.conversations.conversation(caller, conversation_id)


@router.delete("/{conversation_id}", status_code=204, response_class=Response)
async def delete_conversation(
    conversation_id: ConversationId, state: State, caller: KeyCaller
) -> Response:
    """Forget the conversation (its open confirmations are cancelled)."""
    await state.conversations.reset(caller, conversation_id)
    return Response(status_code=204)


@router.get("/{conversation_id}/confirmations")
async def list_confirmations(
    conversation_id: ConversationId, state: State, caller: KeyCaller
) -> ConfirmationsOut:
    """Every confirmation of the conversation, oldest first, with the open ones' tokens."""
    return await state.conversations.confirmations(caller, conversation_id)
