"""Limits on what a request may be, enforced before a route reads it.

The body: at most ``max_body_bytes``. The URL: percent-encoded bytes must decode
as UTF-8 — the server decodes them with replacement characters, so ``q%FF`` and
``q%FE`` would otherwise both reach the route as ``q`` and U+FFFD: one conversation.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soni.server.errors import BodyTooLarge, InvalidInput, problem_for, problem_response
from soni.server.namespace import InvalidConversationId

__all__ = ("RequestLimits", "url_problem")


class RequestLimits:
    """Refuse HTTP request bodies over ``max_bytes`` with 413, and unreadable URLs with 422.

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
        refusal = url_problem(scope.get("raw_path") or b"", scope.get("query_string") or b"")
        if refusal is not None:
            await problem_response(problem_for(refusal))(scope, receive, send)
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


def _utf8(raw: bytes) -> bool:
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def url_problem(raw_path: bytes, query: bytes) -> InvalidInput | None:
    """Why a URL is refused: percent-encoded bytes that are not UTF-8; ``None`` if it is not."""
    if b"%" in raw_path:
        segments = raw_path.split(b"/")
        for index, segment in enumerate(segments):
            if b"%" in segment and not _utf8(segment):
                shown = segment.decode("ascii", "backslashreplace")
                if index and segments[index - 1] == b"conversations":
                    return InvalidConversationId(shown, "not valid UTF-8")
                return InvalidInput(f"the path segment {shown!r} is not valid UTF-8")
    if b"%" in query:
        for field in query.split(b"&"):
            name, _, value = field.partition(b"=")
            if _utf8(name) and _utf8(value):
                continue
            shown = value.decode("ascii", "backslashreplace")
            if name == b"conversation_id":
                return InvalidConversationId(shown, "not valid UTF-8")
            label = name.decode("ascii", "backslashreplace")
            return InvalidInput(f"the query parameter {label!r} is not valid UTF-8")
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                # The server refuses a malformed Content-Length itself; count the bytes.
                return None
    return None
