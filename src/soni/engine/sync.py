"""A synchronous facade: a Bot running on its own event-loop thread.

For scripts, notebooks and synchronous web frameworks. Every call is submitted to
the bot's loop and waited for, so it is safe from any number of threads; turns of
one conversation still run one at a time, in the order they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from anyio.from_thread import start_blocking_portal

if TYPE_CHECKING:
    from soni.engine.runtime import Bot, PendingView, TurnResult

__all__ = ("SyncBot",)

T = TypeVar("T")


class SyncBot:
    """Blocking versions of ``Bot``'s methods.

    Example:
        >>> bot = SyncBot.load("examples/banking", db=":memory:")  # doctest: +SKIP
        >>> bot.handle("c1", "/check_balance").texts                # doctest: +SKIP
        ['Which account: checking or savings?']
        >>> bot.close()                                              # doctest: +SKIP

    A bot already running on an event loop in another thread (a server's) is
    reached the same way through ``bot.sync``.
    """

    def __init__(self, bot: Bot, loop: asyncio.AbstractEventLoop) -> None:
        """Wrap ``bot``, whose event loop ``loop`` runs in another thread."""
        self.bot = bot
        self._loop = loop
        # The loop thread ``load`` started (an anyio blocking portal), which ``close``
        # stops; empty for a loop someone else runs.
        self._loop_thread = contextlib.ExitStack()

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> SyncBot:
        """Start a loop thread and load the bot on it (``options`` as for ``Bot.load``)."""
        from soni.engine.runtime import Bot

        with contextlib.ExitStack() as loop_thread:  # a failed load stops the thread again
            portal = loop_thread.enter_context(start_blocking_portal(name="soni-bot-loop"))
            bot = portal.call(functools.partial(Bot.load, path, **options))
            sync = cls(bot, bot._loop)
            sync._loop_thread = loop_thread.pop_all()
        bot._sync = sync
        return sync

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            coro.close()
            raise RuntimeError("the sync facade was called on the bot's own event loop; await it")
        if not self._loop.is_running():
            coro.close()
            raise RuntimeError(
                "the bot's event loop is not running in another thread; load it with "
                "SyncBot.load(...) to use it from synchronous code"
            )
        # Straight to the bot's loop, not through the portal ``load`` keeps: a bot served
        # on a loop this facade did not start (a server's) has no portal.
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def handle(self, conversation_id: str, text: str, *, user_id: str | None = None) -> TurnResult:
        return self._run(self.bot.handle(conversation_id, text, user_id=user_id))

    def decide(
        self, token: str, decision: str, *, actor: str | None = None, channel: str = "api"
    ) -> TurnResult:
        return self._run(self.bot.decide(token, decision, actor=actor, channel=channel))

    def pending(self, conversation_id: str) -> list[PendingView]:
        return self._run(self.bot.pending(conversation_id))

    def state(self, conversation_id: str) -> dict[str, Any]:
        return self._run(self.bot.state(conversation_id))

    def reset(self, conversation_id: str) -> None:
        self._run(self.bot.reset(conversation_id))

    def close(self) -> None:
        """Close the bot and, for a loop this facade started, stop it. Safe to call twice."""
        if self._loop.is_closed():
            return
        with self._loop_thread:
            self._run(self.bot.aclose())

    def __enter__(self) -> SyncBot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
