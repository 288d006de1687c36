"""One connection's frames, routed: responses to the commands waiting for them, events
to a callback, instructions to the handler registered for their name.

Both ends of the worker protocol (docs/workers.md) use it: the server, whose
commands (``run_action``) wait in a ``ResponseRegistry`` and whose workers ask it
things (``conversation``); the worker, whose handlers answer commands and may ask
back in the same session. The rules, for a frame in session ``S``:

- ``response``: to the ``ResponseRegistry`` when a command ``S`` waits there; else
  to the live context of ``S``; else logged and ignored (a stray response).
- ``event``: to the live context of ``S``, unless ``S`` is a command this side
  sent (its progress goes to ``on_event``); with no context, to ``on_event``.
- ``instruction``: to the live context of ``S``; with none, a new context starts
  the handler registered for its name, in a task of its own.

A context lives while its handler runs; frames it never read start the next
handler in the session once it ends (as docs/websocket.md describes for the
server). Responses and events are never answered, so two adaptors cannot answer
each other's mistakes forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from soni.remote.errors import FrameError, SessionClosed
from soni.remote.frames import Frame, decode, encode, problem
from soni.remote.responses import ResponseRegistry
from soni.remote.session import RemoteSession

__all__ = (
    "EventHandler",
    "Frame",
    "InstructionHandler",
    "MessageAdaptor",
    "RemoteSession",
    "decode",
    "encode",
)

logger = logging.getLogger("soni.remote")

InstructionHandler = Callable[[RemoteSession, dict[str, Any]], Awaitable[None]]
"""``handler(session, args)``: serves one instruction; answers with ``session.respond``."""

EventHandler = Callable[[Frame], Awaitable[None] | None]
"""Called with each event frame no context takes (awaited when it returns an awaitable)."""


class MessageAdaptor:
    """Routes the frames of one connection. Loop-confined: one per connection.

    Example:
        >>> adaptor = MessageAdaptor(websocket.send, responses=registry)  # doctest: +SKIP
        >>> adaptor.on("run_action", run_action)
        >>> async for text in websocket:
        ...     await adaptor.receive(text)
    """

    def __init__(
        self,
        send: Callable[[str], Awaitable[object]],
        *,
        responses: ResponseRegistry | None = None,
        on_event: EventHandler | None = None,
    ) -> None:
        """Create the adaptor of a connection.

        Args:
            send: Writes one text frame to the connection (``websocket.send``).
            responses: Where the commands this side sent wait for their responses.
            on_event: Receives the events no context takes (a command's progress).
        """
        self._send_text = send
        self.responses = responses
        self.on_event = on_event
        self._handlers: dict[str, InstructionHandler] = {}
        self._contexts: dict[str, RemoteSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    @property
    def sessions(self) -> int:
        """How many contexts are live (handlers running)."""
        return len(self._contexts)

    @property
    def tasks(self) -> frozenset[asyncio.Task[None]]:
        """The handler tasks still running."""
        return frozenset(self._tasks)

    def on(self, name: str, handler: InstructionHandler) -> None:
        """Serve the instruction ``name`` with ``handler`` (replacing any earlier one)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"an instruction name is a non-empty string, got {name!r}")
        if not callable(handler):
            raise TypeError(f"the handler of {name!r} must be callable, got {handler!r}")
        self._handlers[name] = handler

    async def send(self, session_id: str, payload: Mapping[str, Any]) -> None:
        """Send ``payload`` in ``session_id``.

        Raises:
            SessionClosed: the adaptor is closed (the connection is gone).
            FrameError: the payload or session id is not one the protocol takes.
        """
        if self.closed:
            raise SessionClosed(session_id)
        await self._send_text(encode(session_id, payload))

    async def receive(self, raw: str | bytes) -> Frame | None:
        """Route one frame received; returns it (``None`` when it was not a frame).

        A bad frame is logged and, when it names a session, answered there with a
        400 ``bad-frame`` problem; it never raises.
        """
        if self.closed:
            logger.debug("a frame after the connection closed: ignored")
            return None
        try:
            frame = decode(raw)
        except FrameError as exc:
            await self._refuse(exc)
            return None
        context = self._contexts.get(frame.session_id)
        if frame.type == "response":
            self._route_response(frame, context)
        elif frame.type == "event":
            await self._route_event(frame, context)
        elif context is not None:
            context.deliver(frame.payload)
        else:
            self._start(frame)
        return frame

    def close(self) -> None:
        """End every session (their ``recv`` raises ``SessionClosed``); take no more frames.

        Running handlers are not cancelled: they finish, and what they send then
        fails with ``SessionClosed``. ``join`` waits for them.
        """
        self.closed = True
        for context in list(self._contexts.values()):
            context.close()

    async def join(self, timeout: float | None = None) -> bool:
        """Wait for the running handlers; ``False`` if some still run after ``timeout``."""
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        return not pending

    # -- routing ----------------------------------------------------------------------

    def _route_response(self, frame: Frame, context: RemoteSession | None) -> None:
        responses = self.responses
        if responses is not None and frame.session_id in responses:
            responses.resolve(frame.session_id, frame.payload)
        elif context is not None:
            context.deliver(frame.payload)
        elif responses is not None:
            responses.resolve(frame.session_id, frame.payload)  # logs the stray
        else:
            logger.warning(
                "a response in session %r, where nothing waits for one: ignored", frame.session_id
            )

    async def _route_event(self, frame: Frame, context: RemoteSession | None) -> None:
        ours = self.responses is not None and frame.session_id in self.responses
        if context is not None and not ours:
            context.deliver(frame.payload)
            return
        if self.on_event is None:
            logger.debug("an event in session %r, with no event handler: ignored", frame.session_id)
            return
        try:
            outcome = self.on_event(frame)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            logger.exception("the event handler failed on an event of session %r", frame.session_id)

    async def _refuse(self, exc: FrameError) -> None:
        logger.warning("a bad frame: %s", exc.detail)
        if exc.session_id is None:
            return  # nowhere to answer
        error = problem("bad-frame", "Bad frame", 400, exc.detail)
        try:
            await self.send(exc.session_id, {"type": "response", "ok": False, "error": error})
        except Exception:
            logger.debug("the answer to a bad frame could not be sent", exc_info=True)

    # -- handlers ---------------------------------------------------------------------

    def _start(self, frame: Frame, later: list[dict[str, Any]] | None = None) -> None:
        context = RemoteSession(frame.session_id, self.send)
        for payload in later or ():
            context.deliver(payload)
        self._contexts[frame.session_id] = context
        task = asyncio.create_task(
            self._serve(context, frame), name=f"soni-remote {frame.name} {frame.session_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, context: RemoteSession, frame: Frame) -> None:
        try:
            await self._handle(context, frame)
        finally:
            unread = context.close()
            if self._contexts.get(context.session_id) is context:
                del self._contexts[context.session_id]
            if unread and not self.closed:
                self._restart(context.session_id, unread)

    async def _handle(self, context: RemoteSession, frame: Frame) -> None:
        name = frame.name
        handler = self._handlers.get(name) if name is not None else None
        args = frame.payload.get("args", {})
        failure: dict[str, Any] | None = None
        if handler is None:
            known = ", ".join(sorted(self._handlers)) or "none"
            failure = problem(
                "unknown-instruction",
                "Unknown instruction",
                400,
                f"unknown instruction {name!r}; expected one of {known}",
            )
        elif not isinstance(args, dict):
            failure = problem(
                "invalid-request", "Invalid request", 422, "args must be a JSON object"
            )
        else:
            try:
                await handler(context, args)
                if not context.responded:
                    logger.warning(
                        "instruction %r in session %r ended without an answer",
                        name,
                        context.session_id,
                    )
                    failure = problem(
                        "internal-error",
                        "Internal error",
                        500,
                        f"instruction {name!r} ended without an answer",
                    )
            except SessionClosed:
                return  # the connection went away: nobody to answer
            except Exception as exc:
                logger.exception("instruction %r in session %r failed", name, context.session_id)
                failure = problem(
                    "internal-error",
                    "Internal error",
                    500,
                    f"instruction {name!r} failed: {type(exc).__name__}",
                )
        if failure is not None and not context.responded:
            with contextlib.suppress(SessionClosed):
                await context.fail(failure)

    def _restart(self, session_id: str, unread: list[dict[str, Any]]) -> None:
        """Frames that came for a context after its handler stopped reading."""
        for index, payload in enumerate(unread):
            if payload.get("type") == "instruction":
                self._start(Frame(session_id, payload), unread[index + 1 :])
                return
            logger.debug(
                "a %s in session %r after its handler ended: ignored",
                payload.get("type"),
                session_id,
            )
