"""A subscription to a conversation's events, on the asyncio client."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Self

from soni.client._protocol import new_session_id
from soni.client.errors import ClientError, ConnectionClosed
from soni.client.records import Event

if TYPE_CHECKING:
    from soni.client.async_client import AsyncClient

__all__ = ("Subscription",)


@dataclass(frozen=True, slots=True)
class SubscriptionEnd:
    """Queued after the last event; ``error`` says why, when the connection was lost."""

    error: ConnectionClosed | None


class Subscription:
    """The events of one conversation, from ``AsyncClient.subscribe``.

    Enter it with ``async with`` (that sends ``subscribe`` and raises if the
    server refuses), then iterate: ``async for event in events``. Iteration ends
    when the block is left or the connection is closed; ``error`` then tells which.
    Events are buffered from the moment the server accepts the subscription until
    they are read.
    """

    def __init__(self, client: AsyncClient, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self._client = client
        self._session_id: str | None = None
        self._queue: asyncio.Queue[Event | SubscriptionEnd] | None = None
        self._left = False
        self._error: ConnectionClosed | None = None

    @property
    def error(self) -> ConnectionClosed | None:
        """After iteration ended: the connection's closing, if that ended it, else ``None``."""
        return self._error

    async def __aenter__(self) -> Self:
        if self._session_id is not None:
            raise RuntimeError("a subscription can be entered only once")
        session_id = new_session_id()
        # The queue is in place before the instruction leaves, so an event the
        # server pushes right after its answer cannot be missed.
        queue = self._client._open_stream(session_id)
        try:
            await self._client.request(
                "subscribe", {"conversation_id": self.conversation_id}, session_id=session_id
            )
        except BaseException:
            self._client._close_stream(session_id)
            raise
        self._session_id, self._queue = session_id, queue
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unsubscribe. Safe to call twice, and after the connection was lost."""
        session_id = self._session_id
        if session_id is None or self._left:
            return
        self._left = True
        self._client._close_stream(session_id)
        if not self._client.closed:
            # Leaving is best effort: the server drops the subscription with the
            # connection anyway.
            with contextlib.suppress(ClientError):
                await self._client.request("unsubscribe", session_id=session_id)

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or ``None`` once the subscription has ended.

        Raises:
            TimeoutError: No event came within ``timeout`` seconds.
        """
        if self._queue is None:
            raise RuntimeError(
                "enter the subscription first: `async with client.subscribe(...) as events:`"
            )
        async with asyncio.timeout(timeout):
            item = await self._queue.get()
        if isinstance(item, SubscriptionEnd):
            # Put back, so every later (or concurrent) reader sees the end too.
            self._queue.put_nowait(item)
            self._error = self._error or item.error
            return None
        return item

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        event = await self.get()
        if event is None:
            raise StopAsyncIteration
        return event
