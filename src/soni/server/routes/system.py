"""Health, readiness, metrics, and the actions the bot can call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from soni.server.errors import NotReady
from soni.server.metrics import CONTENT_TYPE
from soni.server.routing import SoniRoute
from soni.server.state import KeyCaller, State, server_state
from soni.wire import ActionsOut, HealthOut

__all__ = ("router",)

router = APIRouter(tags=["server"], route_class=SoniRoute)


@router.get("/health")
async def health() -> HealthOut:
    """The process answers (no key needed)."""
    return HealthOut(status="ok")


@router.get("/ready")
async def ready(request: Request) -> HealthOut:
    """The bot is loaded and the session registry runs (no key needed); 503 otherwise."""
    state = await server_state(request)
    if not state.sessions.running:
        raise NotReady("the session registry is not running")
    return HealthOut(status="ready")


_METRICS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The Prometheus text format.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@router.get("/metrics", response_class=Response, responses=_METRICS)
async def metrics(state: State, caller: KeyCaller) -> Response:
    """Prometheus metrics: turns, turn latency, pending confirmations, decisions, failures."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)


@router.get("/actions", response_model_by_alias=True)
async def actions(state: State, caller: KeyCaller) -> ActionsOut:
    """The names of the action handlers the bot can call: global and local (in the
    server's process), and remote (announced by action workers, with their ids)."""
    names = state.bot.actions.list_actions()
    return ActionsOut.model_validate({**names, "remote": state.remote.where()})
