"""The request-body limit, enforced before a route reads a byte too many."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soni.server.errors import BodyTooLarge, problem_for, problem_response

__all__ = ("BodyLimit",)


class BodyLimit:
    """Refuse HTTP request bodies over ``max_bytes`` with 413.

    A declared ``Content-Length`` over the limit is refused before the body is
    read; a body that is longer than declared, or chunked, is cut off as soon as
    the bytes read pass the limit (reading raises ``BodyTooLarge``, which the
    error handlers answer).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = problem_response(problem_for(BodyTooLarge(self.max_bytes)))
            # The client may still be sending: say the connection will not be reused.
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        limit = self.max_bytes
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                # The server refuses a malformed Content-Length itself; count the bytes.
                return None
    return None
