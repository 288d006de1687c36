"""The errors of the Python client: each a problem the server answered, or a
connection that failed; all ``ClientError``, a ``SoniError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from soni.errors import SoniError

__all__ = (
    "ClientError",
    "Conflict",
    "ConnectFailed",
    "ConnectionClosed",
    "Gone",
    "InvalidRequest",
    "NotFound",
    "ProtocolError",
    "RequestTimeout",
    "Unauthorized",
)


class ClientError(SoniError):
    """Base class of the errors ``soni.client`` raises.

    An error the server answered (``"ok": false``) carries its problem details; an
    error of the connection itself (lost, timed out, refused) has no ``status``.

    Attributes:
        status: The HTTP-style status the server gave (404, 409, ...), or ``None``.
        title: The problem's short title, when the server gave one.
        detail: The problem's explanation, when the server gave one.
        problem: The whole error object as received (empty when there was none), so
            fields this client does not know are not lost.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.problem = dict(problem or {})
        super().__init__(message)


class NotFound(ClientError, LookupError):
    """404: no such conversation or confirmation token (or not yours to see)."""


class Conflict(ClientError):
    """409: the confirmation was already decided differently, or the conversation is busy.

    Attributes:
        recorded: The decision recorded first, as the server reported it (``None``
            when it did not say, as for a busy conversation). Who decided and when
            are in ``problem`` when the server sent them.
    """

    def __init__(
        self,
        message: str,
        *,
        recorded: Any = None,
        status: int | None = 409,
        title: str | None = None,
        detail: str | None = None,
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        self.recorded = recorded
        super().__init__(message, status=status, title=title, detail=detail, problem=problem)


class Gone(ClientError):
    """410: the confirmation expired before the decision arrived."""


class InvalidRequest(ClientError, ValueError):
    """422: the server refused the instruction's arguments (or could not read the frame)."""


class Unauthorized(ClientError):
    """401 or 403: the server refused the API key, or none was given where one is needed."""


class ConnectFailed(ClientError):
    """The WebSocket connection could not be opened: refused, timed out or rejected.

    Attributes:
        url: The address tried.
    """

    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        self.url = url
        super().__init__(f"cannot connect to {url}: {message}", status=status)


class ConnectionClosed(ClientError):
    """The connection is closed: lost, closed by the server, or closed by ``aclose()``.

    Every request still waiting fails with it, and so does every later one.

    Attributes:
        code: The WebSocket close code, when one was received.
        reason: The close reason the server gave (often empty).
    """

    def __init__(self, message: str, *, code: int | None = None, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(message)


class RequestTimeout(ClientError, TimeoutError):
    """The server did not answer an instruction in time.

    The instruction may still take effect on the server; a late answer is dropped.

    Attributes:
        instruction: The instruction's name (``message``, ``decide``, ...).
        timeout: The time waited, in seconds.
    """

    def __init__(self, instruction: str, timeout: float) -> None:
        self.instruction = instruction
        self.timeout = timeout
        super().__init__(f"no answer to {instruction!r} within {timeout:g} s")


class ProtocolError(ClientError):
    """The server's answer does not follow the protocol (a field missing or mistyped)."""
