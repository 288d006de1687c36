"""The WebSocket protocol's frames, and the sessions that carry them.

Every frame is an envelope ``{"session_id", "local_timestamp", "payload"}``. The
frames of one ``session_id`` form a session: the first starts a handler, later
ones reach it through its ``Session`` (``recv()`` or ``async for``) until it ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from soni.server.errors import BadFrame, Problem, problem_for

__all__ = (
    "PAYLOAD_TYPES",
    "Frame",
    "FrameError",
    "Session",
    "SessionClosed",
    "Socket",
    "parse_frame",
    "session_of",
)

logger = logging.getLogger("soni.server")

PAYLOAD_TYPES = frozenset({"instruction", "response", "event"})
_MAX_SESSION_ID = 128


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame received: its session, the client's timestamp and the payload."""

    session_id: str
    local_timestamp: Any
    payload: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.payload["type"])

    @property
    def name(self) -> Any:
        return self.payload.get("name")


class FrameError(Exception):
    """A frame that cannot be taken; answered in ``session_id`` (``None`` if unreadable)."""

    def __init__(self, session_id: str | None, error: Exception) -> None:
        self.session_id = session_id
        self.error = error
        super().__init__(str(error))


def parse_frame(raw: str) -> Frame:
    """Read an envelope.

    Raises:
        FrameError: malformed JSON, not an envelope, or an unknown payload type.
    """
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise FrameError(None, BadFrame(f"the frame is not valid JSON: {exc}")) from None
    except RecursionError:
        raise FrameError(None, BadFrame("the frame's JSON is nested too deeply")) from None
    if not isinstance(data, dict):
        raise FrameError(
            None,
            BadFrame("a frame is a JSON object {session_id, local_timestamp, payload}"),
        )
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not 0 < len(session_id) <= _MAX_SESSION_ID:
        raise FrameError(
            None,
            BadFrame(f"session_id must be a string of 1 to {_MAX_SESSION_ID} characters"),
        )
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise FrameError(session_id, BadFrame("payload must be a JSON object"))
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in PAYLOAD_TYPES:
        raise FrameError(
            session_id,
            BadFrame(f"unknown payload type {kind!r}; expected instruction, response or event"),
        )
    return Frame(session_id, data.get("local_timestamp"), payload)


def session_of(raw: str) -> str | None:
    """The ``session_id`` a frame names, if it can be read; for a frame refused whole."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    session_id = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(session_id, str) and 0 < len(session_id) <= _MAX_SESSION_ID:
        return session_id
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Socket:
    """A WebSocket that many sessions write to: frames are sent whole, one at a time."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()
        self.open = True

    async def send(self, session_id: str | None, payload: dict[str, Any]) -> bool:
        """Send a frame; ``False`` when the socket is closed (the frame is dropped)."""
        if not self.open:
            return False
        text = json.dumps(
            {"session_id": session_id, "local_timestamp": _now(), "payload": payload},
            separators=(",", ":"),
        )
        async with self._lock:
            try:
                await self.websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                # Gone while a handler was still working: what it says is lost.
                self.open = False
                return False
        return True

    async def send_error(self, session_id: str | None, error: BaseException | Problem) -> None:
        problem = error if isinstance(error, Problem) else problem_for(error)
        await self.send(session_id, {"type": "response", "ok": False, "error": problem.to_json()})


class SessionClosed(Exception):
    """The session ended: its handler finished, or the socket closed."""


class Session:
    """What a handler sees of its session: ``send`` to it, ``recv`` its later frames.

    Iterating it (``async for frame in session``) yields the later frames until the
    session is closed.
    """

    def __init__(self, session_id: str, socket: Socket) -> None:
        self.session_id = session_id
        self._socket = socket
        self._inbox: asyncio.Queue[Frame | None] = asyncio.Queue()
        self.closed = False
        self.responded = False

    async def send(self, payload: dict[str, Any]) -> bool:
        """Send a payload in this session; ``False`` if the socket is closed."""
        return await self._socket.send(self.session_id, payload)

    async def respond(self, result: Any) -> bool:
        """Answer the instruction: ``{"type": "response", "ok": true, "result": ...}``."""
        self.responded = True
        return await self.send({"type": "response", "ok": True, "result": result})

    async def fail(self, error: BaseException | Problem) -> None:
        """Answer with ``{"type": "response", "ok": false, "error": {type, title, ...}}``."""
        self.responded = True
        await self._socket.send_error(self.session_id, error)

    async def recv(self) -> Frame:
        """The next frame of this session.

        Raises:
            SessionClosed: the session ended before another frame came.
        """
        frame = await self._inbox.get()
        if frame is None:
            self._inbox.put_nowait(None)  # later calls end too
            raise SessionClosed(self.session_id)
        return frame

    def __aiter__(self) -> Session:
        return self

    async def __anext__(self) -> Frame:
        try:
            return await self.recv()
        except SessionClosed:
            raise StopAsyncIteration from None

    # -- for the connection ---------------------------------------------------------

    def deliver(self, frame: Frame) -> None:
        self._inbox.put_nowait(frame)

    def close(self) -> list[Frame]:
        """End the session; returns the frames that arrived and were never read."""
        if self.closed:
            return []
        self.closed = True
        unread: list[Frame] = []
        while not self._inbox.empty():
            frame = self._inbox.get_nowait()
            if frame is not None:
                unread.append(frame)
        self._inbox.put_nowait(None)
        return unread
