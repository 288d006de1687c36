"""Commands to the registry's actor task, and their answers, across event loops.

A caller may sit on another thread's event loop (a confirmation observer, a sync
wrapper): its future belongs to its own loop, so the answer is set there with
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ("Command", "current_loop")


def current_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop of this thread, or ``None`` outside one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@dataclass(slots=True)
class Command:
    """A request to the actor: a kind, its arguments and, unless posted, a future."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    future: asyncio.Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def answer(self, result: Any) -> None:
        self._deliver(result, None)

    def fail(self, error: BaseException) -> None:
        self._deliver(None, error)

    def _deliver(self, result: Any, error: BaseException | None) -> None:
        future, loop = self.future, self.loop
        if future is None or loop is None:
            return  # posted: nobody waits for the answer
        if current_loop() is loop:
            _settle(future, result, error)
            return
        # Its loop is closed: the caller is gone, nobody to tell.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
