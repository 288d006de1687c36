"""What a running app holds (``app.state.soni``), and the dependencies that read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from soni.engine import Bot
from soni.server.auth import Caller, Keys, bearer_key
from soni.server.errors import NotAuthenticated, NotReady
from soni.server.metrics import Metrics
from soni.server.remote_actions import RemoteActions
from soni.server.service import Conversations
from soni.server.settings import ServerSettings
from soni.sessions import SessionRegistry

__all__ = (
    "KeyCaller",
    "ServerState",
    "State",
    "TokenCaller",
    "caller_for",
    "presented_key",
    "server_state",
)


@dataclass(slots=True)
class ServerState:
    """The bot served and everything the server keeps beside it."""

    bot: Bot
    sessions: SessionRegistry
    settings: ServerSettings
    metrics: Metrics
    keys: Keys
    conversations: Conversations
    remote: RemoteActions
    worker_keys: Keys


# The dependencies are ``async def`` on purpose: FastAPI runs a plain ``def``
# dependency in a thread pool, a thread hop per dependency per request.


async def server_state(connection: HTTPConnection) -> ServerState:
    """The running app's state.

    Raises:
        NotReady: the bot is not loaded yet, or no longer.
    """
    state = getattr(connection.app.state, "soni", None)
    if not isinstance(state, ServerState):
        raise NotReady("the bot is not loaded yet")
    return state


State = Annotated[ServerState, Depends(server_state)]


def caller_for(state: ServerState, connection: HTTPConnection, *, optional: bool = False) -> Caller:
    """Who is calling, from ``Authorization: Bearer`` (or ``?api_key=`` on a WebSocket).

    Raises:
        NotAuthenticated: keys are on and the key is missing (unless ``optional``)
            or unknown.
    """
    key = presented_key(connection)
    if state.worker_keys.user_of(key) is not None:
        raise NotAuthenticated("a worker key opens no conversation; use an API key")
    return state.keys.caller(key, optional=optional)


def presented_key(connection: HTTPConnection) -> str | None:
    """The key a request presents: ``Authorization: Bearer`` (or ``?api_key=`` on a
    WebSocket)."""
    key = bearer_key(connection.headers.get("authorization"))
    if key is None and connection.scope["type"] == "websocket":
        key = connection.query_params.get("api_key")
    return key


# The callers read the state themselves rather than depend on ``State``: each
# level of dependencies costs FastAPI work on every request.


async def _key_caller(request: Request) -> Caller:
    return caller_for(await server_state(request), request)


async def _token_caller(request: Request) -> Caller:
    # A route a confirmation token opens: with decide_by_token_alone, no key needed.
    state = await server_state(request)
    return caller_for(state, request, optional=state.settings.decide_by_token_alone)


KeyCaller = Annotated[Caller, Depends(_key_caller)]
"""The caller of a route that needs an API key when keys are on."""

TokenCaller = Annotated[Caller, Depends(_token_caller)]
"""The caller of a route a token opens."""
