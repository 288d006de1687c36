"""An asyncio event loop on a thread of its own, for callers that are not async.

A blocking program (a script, a thread pool, ``Worker.start()``) hands coroutines
to the loop's thread and waits for them, or not.

Built on anyio's blocking portal, as ``soni.client.Client`` and ``SyncBot`` are:
it already starts the loop in a daemon thread and returns once the loop runs,
carries results and exceptions back through ``concurrent.futures.Future``,
cancels a task when its future is cancelled, and cancels what is left when it
stops. Added here: errors of our own instead of a bare ``RuntimeError`` when the
loop is used from its own thread (where waiting would wait for itself forever) or
after it stopped, ``call_soon`` for plain callbacks, the asyncio loop itself for
code that needs ``call_soon_threadsafe``, and a ``stop`` bounded in time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from soni.remote.errors import LoopError

__all__ = ("ThreadSafeEventLoop",)

T = TypeVar("T")


async def _await(coro: Coroutine[Any, Any, T]) -> T:
    return await coro


class ThreadSafeEventLoop:
    """An asyncio loop running in a daemon thread, usable from any other thread.

    Example:
        >>> with ThreadSafeEventLoop() as loop:
        ...     loop.run(asyncio.sleep(0, "done"))
        'done'
    """

    def __init__(self, name: str = "soni-loop") -> None:
        """Prepare a loop; ``start()`` (or ``with``) starts its thread.

        Args:
            name: The thread's name, as logs and debuggers show it.
        """
        self.name = name
        self._lock = threading.Lock()
        self._stack: contextlib.ExitStack | None = None
        self._portal: BlockingPortal | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the loop's thread is up and takes work."""
        return self._portal is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop itself (for ``call_soon_threadsafe`` and the like).

        Raises:
            LoopError: not started.
        """
        if self._loop is None:
            raise LoopError(f"the event loop {self.name!r} is not running: call start() first")
        return self._loop

    @property
    def in_loop_thread(self) -> bool:
        """Whether the calling thread is the loop's own."""
        return self._thread is not None and threading.current_thread() is self._thread

    def start(self) -> Self:
        """Start the thread; returns once the loop runs. Starting a running loop is an error.

        Raises:
            LoopError: already started.
        """
        with self._lock:
            if self._stack is not None:
                raise LoopError(f"the event loop {self.name!r} is already running")
            with contextlib.ExitStack() as stack:  # the thread stops again if what follows fails
                portal = stack.enter_context(start_blocking_portal(name=self.name))
                self._loop = portal.call(asyncio.get_running_loop)
                self._thread = portal.call(threading.current_thread)
                self._stack = stack.pop_all()
            self._portal = portal
        return self

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop; its result (or exception) comes in the future returned.

        Cancelling the future cancels the task. A coroutine refused is closed.

        Raises:
            LoopError: the loop is not running, or this is the loop's own thread (a
                coroutine there is awaited, or made a task with ``asyncio.create_task``).
        """
        try:
            portal = self._usable("submit")
        except LoopError:
            coro.close()  # refused: never "was never awaited"
            raise
        try:
            return portal.start_task_soon(_await, coro)
        except RuntimeError as exc:  # stopped between the check and the call
            coro.close()
            raise LoopError(f"the event loop {self.name!r} is not running") from exc
        except BaseException:
            coro.close()
            raise

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result; its exception is raised here.

        Raises:
            TimeoutError: ``timeout`` seconds passed; the task is cancelled.
            LoopError: as for ``submit``.
        """
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the coroutine did not finish within {timeout:g} s") from None
        except BaseException:
            future.cancel()
            raise

    def call_soon(self, fn: Callable[..., object], *args: Any) -> None:
        """Call ``fn(*args)`` on the loop's thread soon; returns at once, from any thread.

        Raises:
            LoopError: the loop is not running.
        """
        loop = self.loop
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError as exc:
            raise LoopError(f"the event loop {self.name!r} is not running") from exc

    def stop(self, timeout: float | None = 5.0) -> None:
        """Cancel the tasks still running, wait for them, and join the thread.

        Safe to call twice. A task that refuses to end keeps the (daemon) thread
        alive past ``timeout``: then ``LoopError`` says so.

        Raises:
            LoopError: called from the loop's own thread, or the thread did not end
                within ``timeout`` seconds.
        """
        if self.in_loop_thread:
            raise LoopError(
                f"stop() called on the event loop {self.name!r}'s own thread; "
                "call it from another thread"
            )
        with self._lock:
            stack, portal, thread = self._stack, self._portal, self._thread
            self._portal = None
        if stack is None or portal is None:
            return
        with contextlib.suppress(RuntimeError, TimeoutError):  # stopping already, or stuck
            portal.start_task_soon(portal.stop, True).result(timeout)
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise LoopError(
                    f"the event loop {self.name!r} still runs tasks {timeout:g} s after stop()"
                )
        with self._lock:
            self._stack = self._loop = self._thread = None
        stack.close()  # the thread is gone: this only tidies up

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _usable(self, what: str) -> BlockingPortal:
        portal = self._portal
        if portal is None:
            raise LoopError(f"the event loop {self.name!r} is not running: call start() first")
        if self.in_loop_thread:
            raise LoopError(
                f"{what}() called on the event loop {self.name!r}'s own thread, where waiting "
                "for the result would block the loop forever; await the coroutine instead"
            )
        return portal
