"""Every error the server answers, mapped in one place to ``application/problem+json``.

HTTP handlers and the WebSocket protocol both call ``problem_for``, so a client
sees the same ``{type, title, status, detail}`` whichever way it came in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soni.confirmations import Actor
from soni.confirmations.errors import (
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationError,
    ConfirmationExpired,
    InvalidDecision,
    InvalidDecisionMessage,
    UnknownConfirmation,
)
from soni.errors import ConversationBusy, SoniError, StoreClosed
from soni.sessions.errors import SessionCommandError

__all__ = (
    "PROBLEM_JSON",
    "BadFrame",
    "BodyTooLarge",
    "CatchAll",
    "ConversationBusy",
    "ConversationNotFound",
    "InvalidInput",
    "NotAuthenticated",
    "NotReady",
    "Problem",
    "install_error_handlers",
    "problem_for",
    "problem_response",
)

logger = logging.getLogger("soni.server")

PROBLEM_JSON = "application/problem+json"
_TYPE = "urn:soni:problem:"


class ConversationNotFound(SoniError, LookupError):
    """No such conversation — or one that belongs to another user (the same answer)."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        super().__init__(f"unknown conversation {conversation_id!r}")


class InvalidInput(SoniError, ValueError):
    """A request the server cannot read (a body, a frame, an argument)."""

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        self.errors = errors or []
        super().__init__(detail)


class BadFrame(SoniError):
    """A WebSocket frame the protocol cannot take: malformed, of an unknown type or name."""

    def __init__(self, detail: str, *, status: int = 400, slug: str = "bad-frame") -> None:
        self.status = status
        self.slug = slug
        super().__init__(detail)


class NotAuthenticated(SoniError):
    """No API key, or one the server does not know."""


class NotReady(SoniError):
    """The bot is not loaded yet, or the server is shutting down."""


class BodyTooLarge(HTTPException):
    """The request body is over ``max_body_bytes``.

    An ``HTTPException`` so that FastAPI re-raises it unchanged when it happens
    while a route's body is being read.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(413, f"the request body is larger than {limit} bytes")


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem: ``slug`` names its ``type``; ``extra`` adds members."""

    status: int
    slug: str
    title: str
    detail: str
    extra: Mapping[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": _TYPE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(jsonable_encoder(dict(self.extra)))
        return body


def _actor(actor: object) -> dict[str, Any] | None:
    if isinstance(actor, Actor):
        return {"user_id": actor.user_id, "channel": actor.channel}
    return None


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _validation_errors(errors: Any) -> list[dict[str, Any]]:
    # Inputs are left out: they may be large, and may carry tokens.
    cleaned = [
        {"loc": list(e.get("loc", ())), "msg": _message(e), "type": e.get("type")} for e in errors
    ]
    return jsonable_encoder(cleaned)  # type: ignore[no-any-return]


def _message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", ""))
    # FastAPI reports a body it could not parse as "JSON decode error", the reason
    # (the parser's, or soni.server.routing's) in the context.
    reason = (error.get("ctx") or {}).get("error")
    if error.get("type") == "json_invalid" and reason and str(reason) not in message:
        message = f"{message}: {reason}"
    return message


def problem_for(exc: BaseException) -> Problem:
    """The problem that answers ``exc``; an unexpected exception is a 500."""
    if isinstance(exc, ConversationNotFound):
        return Problem(404, "conversation-not-found", "Unknown conversation", str(exc))
    if isinstance(exc, UnknownConfirmation):
        return Problem(404, "confirmation-not-found", "Unknown confirmation", str(exc))
    if isinstance(exc, AlreadyDecided):
        return Problem(
            409,
            "already-decided",
            "Already decided",
            str(exc),
            {
                "confirmation_id": exc.confirmation_id,
                "decision": exc.decision,
                "confirmation_status": exc.status,
                "decided_by": _actor(exc.decided_by),
                "decided_at": _iso(exc.decided_at),
            },
        )
    if isinstance(exc, ConfirmationExpired):
        extra: dict[str, object] = {
            "confirmation_id": exc.confirmation_id,
            "expired_at": _iso(exc.expired_at),
        }
        return Problem(410, "confirmation-expired", "Confirmation expired", str(exc), extra)
    if isinstance(exc, ConfirmationClosed):
        extra = {"confirmation_id": exc.confirmation_id, "confirmation_status": exc.status}
        return Problem(410, "confirmation-closed", "Confirmation withdrawn", str(exc), extra)
    if isinstance(exc, InvalidDecision):
        extra = {"options": list(exc.options)}
        return Problem(422, "invalid-decision", "Invalid decision", str(exc), extra)
    if isinstance(exc, InvalidDecisionMessage):
        return Problem(422, "invalid-decision-message", "Invalid decision message", str(exc))
    if isinstance(exc, ConversationBusy):
        return Problem(409, "conversation-busy", "Conversation busy", str(exc))
    if isinstance(exc, InvalidInput):
        extra = {"errors": exc.errors} if exc.errors else {}
        return Problem(422, "invalid-request", "Invalid request", str(exc), extra)
    if isinstance(exc, RequestValidationError | WebSocketRequestValidationError | ValidationError):
        errors = _validation_errors(exc.errors())
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return Problem(422, "invalid-request", "Invalid request", detail, {"errors": errors})
    if isinstance(exc, BadFrame):
        # The error's own kind names it ("Unknown instruction"), else its status does.
        title = _SLUG_TITLES.get(exc.slug) or _PROTOCOL_TITLES.get(exc.status)
        return Problem(exc.status, exc.slug, title or "Protocol error", str(exc))
    if isinstance(exc, NotAuthenticated):
        return Problem(401, "unauthorized", "Unauthorized", str(exc))
    if isinstance(exc, NotReady | StoreClosed | SessionCommandError):
        # The session registry refuses commands only when it is not running.
        return Problem(503, "not-ready", "Service unavailable", str(exc) or "not ready")
    if isinstance(exc, ConfirmationError):
        return Problem(409, "confirmation-conflict", "Confirmation conflict", str(exc))
    if isinstance(exc, BodyTooLarge):
        extra = {"limit": exc.limit}
        return Problem(413, "body-too-large", "Request body too large", str(exc.detail), extra)
    if isinstance(exc, HTTPException):
        title = _TITLES.get(exc.status_code, "Error")
        slug = title.lower().replace(" ", "-")
        return Problem(exc.status_code, slug, title, str(exc.detail))
    return Problem(500, "internal-error", "Internal server error", "an unexpected error occurred")


_SLUG_TITLES = {"unknown-instruction": "Unknown instruction"}
_PROTOCOL_TITLES = {
    400: "Bad frame",
    404: "Not found",
    409: "Session busy",
    422: "Invalid request",
    429: "Too many sessions",
}

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    503: "Service unavailable",
}


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    all_headers = dict(headers or {})
    if problem.status == 401:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(
        problem.to_json(), status_code=problem.status, headers=all_headers, media_type=PROBLEM_JSON
    )


def _count(app: Any, status: int) -> None:
    state = getattr(getattr(app, "state", None), "soni", None)
    if state is not None:
        state.metrics.errors.labels(str(status)).inc()


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    problem = problem_for(exc)
    if problem.slug == "internal-error":
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    _count(request.app, problem.status)
    headers = getattr(exc, "headers", None) if isinstance(exc, HTTPException) else None
    return problem_response(problem, headers)


class CatchAll:
    """Answer an unexpected exception with a 500 problem, and log it.

    Starlette's own last resort re-raises the exception to the server, which then
    drops the client's keep-alive connection; answering here keeps it usable.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            logger.error("%s %s failed", scope.get("method"), scope.get("path"), exc_info=exc)
            if started:
                raise  # part of an answer is out: nothing sensible can follow it
            _count(scope.get("app"), 500)
            await problem_response(problem_for(exc))(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with a problem; bad input never becomes a 500."""
    for kind in (SoniError, RequestValidationError, HTTPException):
        app.add_exception_handler(kind, _handle)
    app.add_middleware(CatchAll)
