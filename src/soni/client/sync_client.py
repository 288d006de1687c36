"""The blocking client: an ``AsyncClient`` running on its own event-loop thread.

For scripts, notebooks and threaded programs. Every call is handed to the loop
thread and waited for, so one ``Client`` serves any number of threads at once,
sharing one connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from types import TracebackType
from typing import Any, Self, TypeVar

from soni.client.async_client import AsyncClient
from soni.client.records import Decision, Event, Reply
from soni.client.subscription import Subscription
from soni.errors import ConnectionClosed

__all__ = ("Client", "SyncSubscription")

T = TypeVar("T")

# How long closing waits for calls still in flight before cancelling them, and
# for the loop thread to stop.
_SHUTDOWN_GRACE = 5.0


class Client:
    """A thread-safe, blocking client for soni's WebSocket protocol.

    Example:
        >>> with Client("ws://127.0.0.1:8000/ws", api_key="key1") as client:  # doctest: +SKIP
        ...     reply = client.send_message("c1", "I want to transfer money")
        ...     print(reply.texts)

    The connection opens when the client is made (raising ``ConnectFailed`` or
    ``Unauthorized`` if it cannot) and closes with ``close()`` or the ``with``
    block. Methods and errors are those of ``AsyncClient``.
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        open_timeout: float = 10,
        request_timeout: float = 30,
    ) -> None:
        """Start the loop thread and connect; arguments as for ``AsyncClient``."""
        self.url = url
        self._lock = threading.Lock()
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="soni-client-loop", daemon=True
        )
        self._thread.start()
        self._aio = AsyncClient(
            url, api_key=api_key, open_timeout=open_timeout, request_timeout=request_timeout
        )
        try:
            self._call(self._aio.connect())
        except BaseException:
            self._closed = True
            self._stop_loop()
            raise

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called or the connection is gone."""
        return self._closed or self._aio.closed

    def send_message(self, conversation_id: str, text: str, *, user_id: str | None = None) -> Reply:
        """Send a chat message; see ``AsyncClient.send_message``."""
        return self._call(self._aio.send_message(conversation_id, text, user_id=user_id))

    def decide(self, token: str, decision: str) -> Decision:
        """Decide a pending confirmation; see ``AsyncClient.decide``."""
        return self._call(self._aio.decide(token, decision))

    def subscribe(self, conversation_id: str) -> SyncSubscription:
        """The conversation's events, for ``with`` and then ``for``.

        Example:
            >>> with client.subscribe("c1") as events:  # doctest: +SKIP
            ...     event = events.get(timeout=5)
        """
        return SyncSubscription(self, self._aio.subscribe(conversation_id))

    def close(self) -> None:
        """Close the connection and stop the loop thread. Safe to call twice, from any thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Submitted under the lock, so no call can slip in behind it.
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(timeout=2 * _SHUTDOWN_GRACE)
        finally:
            self._stop_loop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._closed:
                coro.close()
                raise ConnectionClosed("the client was closed")
            future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            # Only closing cancels a call (one that outlived the grace period).
            raise ConnectionClosed("the client was closed") from None
        except BaseException:
            # Interrupted (Ctrl-C, say): do not leave the call running on the loop.
            future.cancel()
            raise

    async def _shutdown(self) -> None:
        await self._aio.aclose()
        # Closing failed every request and ended every subscription; give those
        # calls a moment to return their error before cancelling stragglers.
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            _, pending = await asyncio.wait(others, timeout=_SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_SHUTDOWN_GRACE)
        if not self._thread.is_alive():
            self._loop.close()


class SyncSubscription:
    """The events of one conversation, from ``Client.subscribe``.

    Enter it with ``with``, then iterate (``for event in events``), or call
    ``get(timeout)`` to wait a bounded time. Iteration ends when the block is
    left or the connection is closed.
    """

    def __init__(self, client: Client, subscription: Subscription) -> None:
        self._client = client
        self._subscription = subscription

    @property
    def conversation_id(self) -> str:
        return self._subscription.conversation_id

    @property
    def error(self) -> ConnectionClosed | None:
        """See ``Subscription.error``."""
        return self._subscription.error

    def __enter__(self) -> Self:
        self._client._call(self._subscription.__aenter__())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Unsubscribe. Safe to call twice, and after the client was closed."""
        if not self._client.closed:
            # The client may close in another thread meanwhile; then there is nothing to leave.
            with contextlib.suppress(ConnectionClosed):
                self._client._call(self._subscription.aclose())

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or ``None`` once the subscription has ended.

        Raises:
            TimeoutError: No event came within ``timeout`` seconds.
        """
        return self._client._call(self._subscription.get(timeout))

    def __iter__(self) -> Iterator[Event]:
        while (event := self.get()) is not None:
            yield event
