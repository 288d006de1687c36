"""``WS /ws``: the WebSocket protocol.

A client sends instructions, each in an envelope with a ``session_id`` of its
choosing; the server answers each in the same session and, after ``subscribe``,
pushes events there::

    → {"session_id": "s1", "local_timestamp": "...",
       "payload": {"type": "instruction", "name": "message",
                   "args": {"conversation_id": "c1", "text": "hi"}}}
    ← {"session_id": "s1", "local_timestamp": "...",
       "payload": {"type": "response", "ok": true, "result": {...}}}

Instructions: ``message``, ``decide``, ``subscribe`` and ``unsubscribe`` (sent in
the subscription's session), and from an action worker ``announce``, after which the
server sends it ``run_action`` commands (docs/workers.md, ``soni.server.remote_actions``).
Sessions run concurrently; frames that reach a session whose handler ends without
reading them start the next handler there, so a client may also reuse one session_id
for instructions sent one after another.
See docs/websocket.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import BaseModel

from soni.errors import SoniError
from soni.server.auth import ANONYMOUS, Caller
from soni.server.errors import BadFrame, BodyTooLarge, problem_for, problem_response
from soni.server.remote_actions import WorkerLink
from soni.server.schemas import DecideArgs, MessageArgs, SubscribeArgs
from soni.server.state import ServerState, caller_for, presented_key, server_state
from soni.server.ws_session import (
    Frame,
    FrameError,
    Session,
    SessionClosed,
    Socket,
    parse_frame,
    session_of,
)
from soni.wire import Announcement

__all__ = ("Connection", "router")

logger = logging.getLogger("soni.server")

router = APIRouter()

Handler = Callable[[Session, dict[str, Any]], Awaitable[Any]]

MAX_SESSIONS_PER_SOCKET = 1024

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_FORWARDING = ("forwarded", "x-forwarded-for", "x-real-ip")
_CHAT = frozenset({"message", "decide", "subscribe", "unsubscribe"})


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    try:
        state = await server_state(websocket)
        worker = state.worker_keys.user_of(presented_key(websocket))
        caller = ANONYMOUS if worker is not None else caller_for(state, websocket)
    except SoniError as exc:
        await _refuse(websocket, exc)
        return
    await websocket.accept()
    await Connection(websocket, state, caller, worker=worker).serve()


def _may_announce(state: ServerState, websocket: WebSocket, worker: str | None) -> str | None:
    """Why this connection may not announce actions, or ``None`` when it may."""
    if worker is not None:
        return None
    if state.worker_keys.enabled or state.keys.enabled:
        return "announcing actions needs a worker key (SONI_WORKER_KEYS), not an API key"
    forwarded = [name for name in _FORWARDING if name in websocket.headers]
    if forwarded:
        # Through a proxy, "loopback" is the proxy: the worker's own address is unknown.
        return (
            f"a connection through a proxy ({', '.join(forwarded)}) announces only with a "
            "worker key: set SONI_WORKER_KEYS"
        )
    host = websocket.client.host if websocket.client else None
    if host not in _LOOPBACK:
        return (
            "with no worker keys configured (SONI_WORKER_KEYS), workers may connect from "
            f"loopback addresses only, not {host}"
        )
    return None


async def _refuse(websocket: WebSocket, exc: SoniError) -> None:
    """Answer the handshake with the problem as an HTTP response, when the server can."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}) and hasattr(
        websocket, "send_denial_response"
    ):
        await websocket.send_denial_response(problem_response(problem_for(exc)))
    else:
        await websocket.close(code=1008, reason=str(exc)[:120])


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def _event_payload(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "event",
        "event": data["type"],
        "conversation_id": data["conversation_id"],
        "data": data["data"],
        "at": data["at"],
    }


class Connection:
    """One WebSocket: reads frames, routes them to sessions, runs their handlers."""

    def __init__(
        self,
        websocket: WebSocket,
        state: ServerState,
        caller: Caller,
        *,
        worker: str | None = None,
    ) -> None:
        self.websocket = websocket
        self.state = state
        self.caller = caller
        self.worker = worker
        self.socket = Socket(websocket)
        # Set by ``announce``: this connection is an action worker's.
        self.link: WorkerLink | None = None
        self._max_frame = state.settings.max_body_bytes
        self._sessions: dict[str, Session] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: dict[str, Handler] = {
            "message": self._message,
            "decide": self._decide,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "announce": self._announce,
        }

    async def serve(self) -> None:
        """Take frames until the client leaves; then let the handlers finish."""
        try:
            while True:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    await self._take(message)
                except Exception:
                    # A frame that trips a bug must not take every session of the
                    # connection down with it: log it, answer it, go on.
                    logger.exception("a WebSocket frame could not be handled")
                    await self.socket.send_error(
                        None, BadFrame("the frame could not be handled", status=500)
                    )
        finally:
            self.socket.open = False
            if self.link is not None:
                self.state.remote.disconnect(self.link)
            for session in list(self._sessions.values()):
                session.close()
            # Turns already running finish (their answers have nowhere to go, but the
            # conversation keeps them); subscriptions end with their sessions.
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _too_large(self, raw: str) -> None:
        """Refuse a frame over ``max_body_bytes`` — or, a worker's answer, fail its command."""
        session_id = session_of(raw)
        if (
            self.link is not None
            and session_id is not None
            and self.state.remote.too_large(self.link, session_id, self._max_frame)
        ):
            return  # a response is never answered: its command fails instead
        await self.socket.send_error(session_id, BodyTooLarge(self._max_frame))

    async def _take(self, message: Mapping[str, Any]) -> None:
        raw = message.get("text")
        if raw is None:
            data = message.get("bytes") or b""
            if len(data) > self._max_frame:
                await self._too_large(data.decode("utf-8", "replace"))  # to find its session
                return
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError:
                await self.socket.send_error(None, BadFrame("a frame is UTF-8 JSON text"))
                return
        elif len(raw) > self._max_frame or (
            # Characters are up to 4 bytes each: count the bytes only when it matters.
            4 * len(raw) > self._max_frame and len(raw.encode("utf-8")) > self._max_frame
        ):
            # Read whole all the same (the transport caps it at ws_max_frame_bytes), so
            # the refusal goes to the session the frame names, when it names one.
            await self._too_large(raw)
            return
        try:
            frame = parse_frame(raw)
        except FrameError as exc:
            await self.socket.send_error(exc.session_id, exc.error)
            return
        if self.link is not None and self.state.remote.owns(frame.session_id):
            if frame.type == "response":
                # Here, not in a task: a close read right after it must not fail the
                # command its answer already settled.
                self.state.remote.resolve(self.link, frame)
            else:
                self._spawn(self._from_worker(self.link, frame))
            return
        if self.link is not None and frame.type != "instruction":
            # A response or event for a command that ended (timed out) or never was.
            logger.warning(
                "worker %s sent a %s in session %r, which is no command in flight; ignored",
                self.link,
                frame.type,
                frame.session_id,
            )
            return
        session = self._sessions.get(frame.session_id)
        if session is not None:
            session.deliver(frame)
        elif len(self._sessions) >= MAX_SESSIONS_PER_SOCKET:
            await self.socket.send_error(
                frame.session_id,
                BadFrame(
                    f"{MAX_SESSIONS_PER_SOCKET} sessions are open on this connection; "
                    "wait for some to end",
                    status=429,
                    slug="too-many-sessions",
                ),
            )
        else:
            self._start(frame)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` as one of the connection's tasks, which ``serve`` waits for."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _from_worker(self, link: WorkerLink, frame: Frame) -> None:
        try:
            answer = await self.state.remote.take(link, frame)
        except Exception as exc:
            logger.exception("a frame of worker %s could not be handled", link)
            await self.socket.send_error(frame.session_id, exc)
            return
        if answer is not None:
            await self.socket.send(frame.session_id, dict(answer))

    def _start(self, frame: Frame, later: list[Frame] | None = None) -> None:
        session = Session(frame.session_id, self.socket)
        for waiting in later or ():
            session.deliver(waiting)
        self._sessions[frame.session_id] = session
        self._spawn(self._run(session, frame))

    async def _run(self, session: Session, frame: Frame) -> None:
        try:
            handler = self._handler(frame)
            args = frame.payload.get("args")
            if args is None:
                args = {}
            if not isinstance(args, dict):
                raise BadFrame("args must be a JSON object", status=422, slug="invalid-request")
            result = await handler(session, args)
            if not session.responded:
                await session.respond(result)
        except Exception as exc:
            problem = problem_for(exc)
            if problem.status >= 500:
                logger.error("instruction %r failed", frame.name, exc_info=exc)
            self.state.metrics.errors.labels(str(problem.status)).inc()
            await session.fail(problem)
        finally:
            unread = session.close()
            if self._sessions.get(session.session_id) is session:
                del self._sessions[session.session_id]
            if unread and self.socket.open:
                self._start(unread[0], unread[1:])

    def _handler(self, frame: Frame) -> Handler:
        if frame.type != "instruction":
            raise BadFrame(f"a client sends instructions, not a {frame.type}")
        handler = self._handlers.get(frame.name) if isinstance(frame.name, str) else None
        if handler is None:
            known = ", ".join(self._handlers)
            raise BadFrame(
                f"unknown instruction {frame.name!r}; expected one of {known}",
                slug="unknown-instruction",
            )
        if self.worker is not None and frame.name in _CHAT:
            raise BadFrame(
                f"a worker key cannot send {frame.name!r}: it opens no conversation",
                status=403,
                slug="not-allowed",
            )
        return handler

    # -- instructions -------------------------------------------------------------

    async def _announce(self, session: Session, args: dict[str, Any]) -> dict[str, Any]:
        refusal = _may_announce(self.state, self.websocket, self.worker)
        if refusal is not None:
            raise BadFrame(refusal, status=403, slug="worker-key-required")
        announcement = Announcement.model_validate(args)
        link = self.link or WorkerLink(self.socket, self.worker)
        names = self.state.remote.announce(link, announcement)
        self.link = link
        return {"worker": link.worker_id, "actions": names}

    async def _message(self, session: Session, args: dict[str, Any]) -> dict[str, Any]:
        parsed = MessageArgs.model_validate(args)
        turn = await self.state.conversations.message(
            self.caller, parsed.conversation_id, parsed.text, user_id=parsed.user_id
        )
        return _dump(turn)

    async def _decide(self, session: Session, args: dict[str, Any]) -> dict[str, Any]:
        parsed = DecideArgs.model_validate(args)
        decision = await self.state.conversations.decide(
            self.caller, parsed.token, parsed.decision, channel="ws"
        )
        return _dump(decision)

    async def _unsubscribe(self, session: Session, args: dict[str, Any]) -> None:
        raise BadFrame(
            f"nothing to unsubscribe: session {session.session_id!r} has no subscription",
            status=404,
            slug="not-subscribed",
        )

    async def _subscribe(self, session: Session, args: dict[str, Any]) -> None:
        """Push the conversation's events until ``unsubscribe`` or the socket closes."""
        conversation_id = SubscribeArgs.model_validate(args).conversation_id
        conversations = self.state.conversations
        followed = conversations.subscription_id(self.caller, conversation_id)
        async with self.state.sessions.subscribe(followed) as subscription:
            # Attached: nothing published from here on is missed.
            await session.respond({"subscribed": True, "conversation_id": conversation_id})
            events = aiter(subscription)
            next_event = asyncio.ensure_future(anext(events))
            next_frame = asyncio.ensure_future(session.recv())
            try:
                while True:
                    done, _ = await asyncio.wait(
                        {next_event, next_frame}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if next_event in done:
                        try:
                            event = next_event.result()
                        except StopAsyncIteration:
                            break  # the registry stopped, or this subscriber lagged
                        data = conversations.event_data(self.caller, event)
                        if data is not None:
                            await session.send(_event_payload(data))
                        next_event = asyncio.ensure_future(anext(events))
                    if next_frame in done:
                        try:
                            frame = next_frame.result()
                        except SessionClosed:
                            break
                        if frame.type == "instruction" and frame.name == "unsubscribe":
                            await session.respond(
                                {"unsubscribed": True, "conversation_id": conversation_id}
                            )
                            break
                        await session.fail(
                            BadFrame(
                                f"session {session.session_id!r} is subscribed: send "
                                "'unsubscribe' in it, or use another session_id",
                                status=409,
                                slug="session-busy",
                            )
                        )
                        next_frame = asyncio.ensure_future(session.recv())
            finally:
                for pending in (next_event, next_frame):
                    pending.cancel()
                await asyncio.gather(next_event, next_frame, return_exceptions=True)
