"""``/events``: the session registry's events as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from soni.server.routing import SoniRoute
from soni.server.state import KeyCaller, State

__all__ = ("router",)

router = APIRouter(tags=["events"], route_class=SoniRoute)


_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The event stream; each event's `data` is the event as JSON.",
        "content": {
            "text/event-stream": {
                # Without itemSchema (OpenAPI 3.2), a stream's schema describes one event.
                "schema": {
                    "type": "object",
                    "required": ["event", "data"],
                    "properties": {
                        "event": {"type": "string", "description": "The event's type."},
                        "data": {"type": "string", "contentMediaType": "application/json"},
                    },
                }
            }
        },
    }
}


@router.get("/events", response_class=EventSourceResponse, responses=_STREAM)
async def events(
    state: State,
    caller: KeyCaller,
    conversation_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=256,
            pattern="^[^/]+$",
            description="Follow one conversation only.",
        ),
    ] = None,
) -> EventSourceResponse:
    """Server-sent events: ``event:`` is the type, ``data:`` the event as JSON.

    The stream starts with a ``subscribed`` event; from then on nothing published
    is missed. It ends when the server stops, or after a ``lagged`` event when the
    client reads too slowly (reconnect then).
    """
    conversations = state.conversations
    # With API keys on, the caller's id names the caller's own conversation: another
    # user's can be neither followed nor told apart from an unknown one.
    subscription = state.sessions.subscribe(conversations.subscription_id(caller, conversation_id))
    # Attached before the response starts: a client that saw the headers misses nothing.
    await subscription.open()

    async def stream() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent(
                data=json.dumps({"conversation_id": conversation_id}), event="subscribed"
            )
            async for event in subscription:
                data = conversations.event_data(caller, event)
                if data is not None:
                    yield ServerSentEvent(
                        data=json.dumps(data, separators=(",", ":")), event=event.type
                    )
        finally:
            subscription.close()

    return EventSourceResponse(stream(), ping=int(max(1, state.settings.sse_ping)))
