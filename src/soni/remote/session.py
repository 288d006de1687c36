"""One session of a connection, as the handler that serves it sees it.

The first frame of a session (an instruction) starts a handler; the frames that
follow in the same session, while it runs, reach it through its ``RemoteSession``.
A worker's handler gets it as ``ctx.session`` (it is a ``soni.actions.ActionSession``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from soni.remote.errors import SessionClosed

__all__ = ("RemoteSession", "SendPayload")

SendPayload = Callable[[str, Mapping[str, Any]], Awaitable[None]]
"""``send(session_id, payload)``: how a session writes to its connection."""


class RemoteSession:
    """A session's context: ``send`` in it, ``recv`` the later payloads, answer it once.

    Loop-confined: use it from the event loop of its connection.

    Attributes:
        session_id: The session.
        responded: Whether ``respond`` or ``fail`` answered it.
        closed: Whether it ended (its handler finished, or the connection closed).
    """

    def __init__(self, session_id: str, send: SendPayload) -> None:
        self.session_id = session_id
        self._send = send
        self._inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.responded = False
        self.closed = False

    async def send(self, payload: Mapping[str, Any]) -> None:
        """Send ``payload`` (an ``event``, an ``instruction``, ...) in this session.

        Raises:
            SessionClosed: the session (or its connection) is closed.
            FrameError: the payload is not one the protocol takes.
        """
        if self.closed:
            raise SessionClosed(self.session_id)
        await self._send(self.session_id, payload)

    async def recv(self) -> dict[str, Any]:
        """The next payload the other side sends in this session.

        Raises:
            SessionClosed: the session ended before another came.
        """
        payload = await self._inbox.get()
        if payload is None:
            self._inbox.put_nowait(None)  # later calls end too
            raise SessionClosed(self.session_id)
        return payload

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._payloads()

    async def _payloads(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            try:
                yield await self.recv()
            except SessionClosed:
                return

    async def respond(self, result: Any, **members: Any) -> None:
        """Answer: ``{"type": "response", "ok": true, "result": result, **members}``."""
        await self.send({"type": "response", "ok": True, "result": result, **members})
        self.responded = True

    async def fail(self, problem: Mapping[str, Any], **members: Any) -> None:
        """Answer with an error: ``{"type": "response", "ok": false, "error": problem}``.

        ``members`` are added to the payload beside ``error``.
        """
        await self.send({"type": "response", "ok": False, "error": dict(problem), **members})
        self.responded = True

    # -- for the connection -----------------------------------------------------------

    def deliver(self, payload: dict[str, Any]) -> None:
        """Queue a payload that arrived in this session (ignored once closed)."""
        if not self.closed:
            self._inbox.put_nowait(payload)

    def close(self) -> list[dict[str, Any]]:
        """End the session: ``recv`` raises ``SessionClosed``. Returns what was never read."""
        if self.closed:
            return []
        self.closed = True
        unread: list[dict[str, Any]] = []
        while not self._inbox.empty():
            payload = self._inbox.get_nowait()
            if payload is not None:
                unread.append(payload)
        self._inbox.put_nowait(None)
        return unread
