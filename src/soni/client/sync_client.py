"""The blocking client: an ``AsyncClient`` running on its own event-loop thread.

For scripts, notebooks and threaded programs. Every call is handed to the loop
thread and waited for, so one ``Client`` serves any number of threads at once,
sharing one connection.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Self, TypeVar

from anyio.from_thread import start_blocking_portal

from soni.client.async_client import AsyncClient
from soni.client.errors import ConnectionClosed
from soni.client.records import Decision, Event, Reply
from soni.client.subscription import Subscription

__all__ = ("Client", "SyncSubscription")

T = TypeVar("T")

# How long closing waits for the connection to close, then for calls still in
# flight to return their error before cancelling them.
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
        self._calls: set[concurrent.futures.Future[Any]] = set()  # in flight, for close
        self._aio = AsyncClient(
            url, api_key=api_key, open_timeout=open_timeout, request_timeout=request_timeout
        )
        with contextlib.ExitStack() as loop_thread:  # a failed connect stops the thread again
            self._portal = loop_thread.enter_context(start_blocking_portal(name="soni-client-loop"))
            self._call(self._aio.connect)
            self._loop_thread = loop_thread.pop_all()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called or the connection is gone."""
        return self._closed or self._aio.closed

    def send_message(self, conversation_id: str, text: str, *, user_id: str | None = None) -> Reply:
        """Send a chat message; see ``AsyncClient.send_message``."""
        return self._call(
            functools.partial(self._aio.send_message, conversation_id, text, user_id=user_id)
        )

    def decide(self, token: str, decision: str) -> Decision:
        """Decide a pending confirmation; see ``AsyncClient.decide``."""
        return self._call(self._aio.decide, token, decision)

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
            # Under the lock, so no call can slip in behind it.
            closing = self._portal.start_task_soon(self._aio.aclose)
            calls = set(self._calls)
        # Should closing fail, the stack cancels what is left on the loop as it stops it.
        with self._loop_thread:
            closing.result(timeout=_SHUTDOWN_GRACE)
            # Closing failed every request and ended every subscription; give those
            # calls a moment to return their error before cancelling stragglers.
            _, late = concurrent.futures.wait(calls, timeout=_SHUTDOWN_GRACE)
            for call in late:
                call.cancel()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await function(*args)`` on the loop thread, waiting for it here."""
        with self._lock:
            if self._closed:
                raise ConnectionClosed("the client was closed")
            future = self._portal.start_task_soon(function, *args)
            self._calls.add(future)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            # Only closing cancels a call (one that outlived the grace period).
            raise ConnectionClosed("the client was closed") from None
        except BaseException:
            # Interrupted (Ctrl-C, say): do not leave the call running on the loop.
            future.cancel()
            raise
        finally:
            with self._lock:
                self._calls.discard(future)


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
        self._client._call(self._subscription.__aenter__)
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
                self._client._call(self._subscription.aclose)

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or ``None`` once the subscription has ended.

        Raises:
            TimeoutError: No event came within ``timeout`` seconds.
        """
        return self._client._call(self._subscription.get, timeout)

    def __iter__(self) -> Iterator[Event]:
        while (event := self.get()) is not None:
            yield event
