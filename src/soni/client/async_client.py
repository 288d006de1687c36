"""The asyncio client: many requests over one WebSocket connection.

Each instruction travels in a session of its own (a fresh ``session_id``); one
reader task receives every frame and hands it to whoever waits on its session: a
request's future for a ``response``, a subscription's queue for an ``event``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed as WebSocketClosed,
)
from websockets.exceptions import (
    InvalidStatus,
    WebSocketException,
)

from soni.client._protocol import (
    Frame,
    decode_frame,
    encode_instruction,
    new_session_id,
    result_of,
)
from soni.client.errors import (
    ClientError,
    ConnectFailed,
    ConnectionClosed,
    RequestTimeout,
    Unauthorized,
)
from soni.client.records import (
    Decision,
    Event,
    Reply,
    decision_from_wire,
    event_from_wire,
    reply_from_wire,
)
from soni.client.subscription import Subscription, SubscriptionEnd

__all__ = ("AsyncClient",)

logger = logging.getLogger(__name__)


class AsyncClient:
    """An asyncio client for soni's WebSocket protocol.

    Example:
        >>> async with AsyncClient("ws://127.0.0.1:8000/ws") as client:  # doctest: +SKIP
        ...     reply = await client.send_message("c1", "I want to transfer money")
        ...     print(reply.texts)

    Any number of requests may be in flight at once, from any number of tasks;
    answers are matched to requests whatever order they come in. The client
    belongs to the event loop it connected on. It does not reconnect: once the
    connection is lost every waiting and later request raises
    ``ConnectionClosed``, and a new client is needed.
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        open_timeout: float = 10,
        request_timeout: float = 30,
    ) -> None:
        """Prepare a client for ``url``; ``connect()`` (or ``async with``) opens it.

        Args:
            url: The server's WebSocket endpoint, ``ws://host:port/ws`` (``wss://``
                for TLS). An ``?api_key=`` in it is sent as is.
            api_key: Sent as ``Authorization: Bearer <api_key>``.
            open_timeout: Seconds allowed to open the connection.
            request_timeout: Seconds to wait for the answer to each instruction.
        """
        self.url = url
        self.api_key = api_key
        self.open_timeout = open_timeout
        self.request_timeout = request_timeout
        self._connection: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._streams: dict[str, asyncio.Queue[Event | SubscriptionEnd]] = {}
        self._closing = False
        self._lost: ConnectionClosed | None = None

    @property
    def closed(self) -> bool:
        """Whether the connection is gone (closed or lost); a client never connected is not."""
        return self._lost is not None

    async def connect(self) -> None:
        """Open the connection.

        Raises:
            Unauthorized: The server refused the API key (HTTP 401 or 403).
            ConnectFailed: The server could not be reached, did not answer within
                ``open_timeout``, or refused the WebSocket handshake.
        """
        if self._connection is not None:
            raise RuntimeError("the client is already connected; a client connects once")
        shown = _redacted(self.url)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        try:
            self._connection = await connect(
                self.url, additional_headers=headers, open_timeout=self.open_timeout
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise Unauthorized(
                    f"{shown} refused the connection (HTTP {status}): check the API key",
                    status=status,
                ) from exc
            raise ConnectFailed(shown, f"the server answered HTTP {status}", status=status) from exc
        except TimeoutError as exc:
            raise ConnectFailed(shown, f"no handshake within {self.open_timeout:g} s") from exc
        except (OSError, WebSocketException) as exc:
            raise ConnectFailed(shown, f"{type(exc).__name__}: {exc}") from exc
        self._reader = asyncio.create_task(
            self._read(self._connection), name=f"soni-client-reader {shown}"
        )

    async def aclose(self) -> None:
        """Close the connection. Waiting requests fail, subscriptions end. Safe to call twice."""
        self._closing = True
        if self._connection is not None:
            await self._connection.close()
        if self._reader is not None:
            await self._reader

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def send_message(
        self, conversation_id: str, text: str, *, user_id: str | None = None
    ) -> Reply:
        """Send a chat message; returns the bot's replies and what it waits for now.

        Raises:
            ClientError: The server refused it (a subclass by status:
                ``InvalidRequest`` for 422, ...), no answer came within
                ``request_timeout`` (``RequestTimeout``), or the connection is gone
                (``ConnectionClosed``).
        """
        args: dict[str, Any] = {"conversation_id": conversation_id, "text": text}
        if user_id is not None:
            args["user_id"] = user_id
        return reply_from_wire(await self.request("message", args))

    async def decide(self, token: str, decision: str) -> Decision:
        """Decide a pending confirmation: ``"approve"``, ``"skip"`` or an offered option.

        Raises:
            NotFound: No such token (or not yours).
            Conflict: Another decision was recorded first; it is ``error.recorded``.
            Gone: The confirmation expired.
            ClientError: As for ``send_message``.
        """
        result = await self.request("decide", {"token": token, "decision": decision})
        return decision_from_wire(result)

    def subscribe(self, conversation_id: str) -> Subscription:
        """The conversation's events, for ``async with`` and then ``async for``.

        Example:
            >>> async with client.subscribe("c1") as events:  # doctest: +SKIP
            ...     async for event in events:
            ...         print(event.type, event.data)

        The subscription starts when the block is entered (a refusal raises
        there) and ends when it is left, or when the connection is lost.
        """
        return Subscription(self, conversation_id)

    async def request(
        self,
        name: str,
        args: Mapping[str, Any] | None = None,
        *,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """Send any instruction and return its result (the low-level call behind the others).

        ``session_id`` defaults to a fresh one; a subscription passes its own.
        """
        connection = self._usable()
        session_id = session_id or new_session_id()
        if session_id in self._waiting:
            raise RuntimeError(f"session {session_id} already waits for an answer")
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[session_id] = waiter
        try:
            async with asyncio.timeout(self.request_timeout):
                # On a closed connection the reader fails the waiter, with the details.
                with contextlib.suppress(WebSocketClosed):
                    await connection.send(encode_instruction(session_id, name, args))
                payload = await waiter
        except TimeoutError:
            raise RequestTimeout(name, self.request_timeout) from None
        finally:
            if self._waiting.get(session_id) is waiter:
                del self._waiting[session_id]
        return result_of(name, payload)

    def _usable(self) -> ClientConnection:
        if self._lost is not None:
            raise self._copy_lost()
        if self._connection is None:
            raise RuntimeError("the client is not connected: use `async with` or `connect()`")
        return self._connection

    def _open_stream(self, session_id: str) -> asyncio.Queue[Event | SubscriptionEnd]:
        self._usable()
        # Unbounded on purpose: the reader must never wait for a slow consumer,
        # or every other request on the connection would wait with it.
        queue: asyncio.Queue[Event | SubscriptionEnd] = asyncio.Queue()
        self._streams[session_id] = queue
        return queue

    def _close_stream(self, session_id: str) -> None:
        queue = self._streams.pop(session_id, None)
        if queue is not None:
            queue.put_nowait(SubscriptionEnd(None))

    async def _read(self, connection: ClientConnection) -> None:
        try:
            async for raw in connection:
                try:
                    self._dispatch(raw)
                except Exception:
                    logger.exception("soni client: could not dispatch a frame; ignoring it")
        except WebSocketClosed:
            pass
        finally:
            self._fail_all(connection)

    def _dispatch(self, raw: str | bytes) -> None:
        frame = decode_frame(raw)
        if frame is None:
            logger.warning("soni client: ignoring a frame that is not an envelope: %.200r", raw)
        elif frame.kind == "response":
            self._answer(frame)
        elif frame.kind == "event":
            self._deliver(frame)
        else:
            logger.warning("soni client: ignoring a frame of unknown type %.50r", frame.kind)

    def _answer(self, frame: Frame) -> None:
        waiter = self._waiting.pop(frame.session_id or "", None)
        if waiter is None:
            # A late answer to a request that timed out or was cancelled, or a
            # complaint about a frame the server could not read.
            logger.debug("soni client: dropping a response for session %s", frame.session_id)
        elif not waiter.done():
            waiter.set_result(frame.payload)

    def _deliver(self, frame: Frame) -> None:
        queue = self._streams.get(frame.session_id or "")
        if queue is None:
            logger.debug("soni client: dropping an event for session %s", frame.session_id)
            return
        try:
            event = event_from_wire(frame.payload)
        except ClientError as exc:
            logger.warning("soni client: ignoring a malformed event: %s", exc)
            return
        queue.put_nowait(event)

    def _fail_all(self, connection: ClientConnection) -> None:
        code = connection.close_code
        reason = connection.close_reason or ""
        if self._closing:
            message = "the client was closed"
        else:
            message = f"the connection to {_redacted(self.url)} was lost"
            if code is not None:
                message += f" (close code {code}{': ' + reason if reason else ''})"
        self._lost = ConnectionClosed(message, code=code, reason=reason)
        waiters, self._waiting = self._waiting, {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_exception(self._copy_lost())
        streams, self._streams = self._streams, {}
        for queue in streams.values():
            queue.put_nowait(SubscriptionEnd(self._lost))

    def _copy_lost(self) -> ConnectionClosed:
        # A fresh exception per raise, so tracebacks do not pile up on one object.
        lost = self._lost
        assert lost is not None
        return ConnectionClosed(str(lost), code=lost.code, reason=lost.reason)


def _redacted(url: str) -> str:
    """``url`` with any ``api_key`` query value hidden, fit for messages and logs."""
    parts = urlsplit(url)
    if "api_key" not in parts.query:
        return url
    query = [(k, "***" if k == "api_key" else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))
