"""The SessionRegistry: live conversations and their events, served by one task."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from soni.errors import SessionCommandError
from soni.sessions._actor import STOP, SessionActor
from soni.sessions._commands import Command, current_loop
from soni.sessions.events import SessionEvent, SessionInfo
from soni.sessions.subscription import Mailbox, Subscription
from soni.sessions.watch import session_event_for

if TYPE_CHECKING:
    from soni.confirmations import ConfirmationEvent, ConfirmationRegistry

__all__ = ("SessionRegistry",)

logger = logging.getLogger("soni.sessions")


class SessionRegistry:
    """The conversations in use, and a broadcast of what happens to them.

    One asyncio task, started by ``start()``, owns the map of live conversations
    and the subscribers; every method sends it a command and waits for the answer.
    The map is bounded: beyond ``max_sessions`` the least recently active
    conversations leave it (their state stays in the checkpointer), and those idle
    longer than ``idle_ttl`` are removed by a clean-up every ``clean_interval``.

    Methods may be awaited from any thread's event loop; subscriptions are
    iterated on the loop that started the registry.

    Args:
        max_sessions: How many conversations the map holds at most.
        idle_ttl: Seconds without a turn after which a conversation is removed.
        clean_interval: Seconds between two clean-ups.
        queue_size: How many unread events a subscriber may have before it is
            dropped with a ``lagged`` event.

    Raises:
        ValueError: a setting is out of range.
    """

    def __init__(
        self,
        max_sessions: int = 10_000,
        idle_ttl: float = 3600.0,
        clean_interval: float = 60.0,
        queue_size: int = 256,
    ) -> None:
        if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 1:
            raise ValueError(f"max_sessions must be a positive integer, got {max_sessions!r}")
        if not idle_ttl > 0:
            raise ValueError(f"idle_ttl must be positive, got {idle_ttl!r}")
        if not clean_interval > 0:
            raise ValueError(f"clean_interval must be positive, got {clean_interval!r}")
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ValueError(f"queue_size must be a positive integer, got {queue_size!r}")
        self.max_sessions = max_sessions
        self.idle_ttl = float(idle_ttl)
        self.clean_interval = float(clean_interval)
        self.queue_size = queue_size
        self._state: Literal["new", "running", "stopped"] = "new"
        self._actor: SessionActor | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Started and not stopped."""
        return self._state == "running"

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Start the actor task on the running event loop.

        Raises:
            SessionCommandError: it was started before.
        """
        if self._state != "new":
            raise SessionCommandError("start", f"the session registry was {self._state} before")
        self._actor = SessionActor(
            max_sessions=self.max_sessions,
            idle_ttl=self.idle_ttl,
            clean_interval=self.clean_interval,
            queue_size=self.queue_size,
        )
        self._task = asyncio.create_task(self._actor.run(), name="soni-session-registry")
        self._state = "running"

    async def stop(self) -> None:
        """Stop the actor task after the commands already sent; idempotent.

        Subscribers' iterations end; later calls raise ``SessionCommandError``.
        """
        self._state = "stopped"
        actor, task = self._actor, self._task
        if actor is None or task is None:
            return
        if not actor.finished:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[Any] = loop.create_future()
            actor.submit(Command(STOP, {}, done, loop))
            # Refused only when the actor ended on its own meanwhile: stopped either way.
            with contextlib.suppress(SessionCommandError):
                await done
        if current_loop() is actor.loop:
            await asyncio.wait([task])

    # -- commands -----------------------------------------------------------------

    async def record_turn(
        self,
        conversation_id: str,
        *,
        status: str,
        pending: int,
        active_flow: str | None,
        user_id: str | None,
        replies: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Record a turn of a conversation, which becomes its most recently active.

        Emits ``session_started`` for a conversation not in the map (after
        ``session_removed`` for any it evicts), then ``turn``, then
        ``awaiting_confirmation`` when ``status`` is ``"awaiting_confirmation"``.

        Args:
            conversation_id: The conversation.
            status: Its status after the turn.
            pending: How many confirmations it waits for.
            active_flow: Its active flow, if any.
            user_id: Its user; ``None`` keeps the one already known.
            replies: The turn's replies as JSON-able mappings (``{text, kind}``).

        Raises:
            SessionCommandError: a bad argument, or the registry is not running.
        """
        await self._request(
            "record_turn",
            conversation_id=conversation_id,
            status=status,
            pending=pending,
            active_flow=active_flow,
            user_id=user_id,
            replies=replies,
        )

    def post_turn(
        self,
        conversation_id: str,
        *,
        status: str,
        pending: int,
        active_flow: str | None,
        user_id: str | None,
        replies: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """``record_turn`` without waiting for the actor: for a server answering a turn.

        The command is queued in order with the others; a bad one is logged by the
        actor instead of raised, and nothing is queued when the registry is not
        running. Call it on the registry's event loop.
        """
        self._post(
            "record_turn",
            conversation_id=conversation_id,
            status=status,
            pending=pending,
            active_flow=active_flow,
            user_id=user_id,
            replies=replies,
        )

    async def publish(self, event: SessionEvent) -> None:
        """Send an event to the subscribers of its conversation and of all.

        Raises:
            SessionCommandError: not a SessionEvent, an unknown type or ``lagged``,
                or the registry is not running.
        """
        await self._request("publish", event=event)

    async def remove(self, conversation_id: str, reason: str) -> bool:
        """Forget a conversation, emitting ``session_removed`` with the reason.

        Returns:
            Whether it was in the map (nothing is emitted when it was not).

        Raises:
            SessionCommandError: a bad argument, or the registry is not running.
        """
        removed: bool = await self._request(
            "remove", conversation_id=conversation_id, reason=reason
        )
        return removed

    async def get(self, conversation_id: str) -> SessionInfo | None:
        """The conversation's entry, or ``None`` when it is not in the map.

        Raises:
            SessionCommandError: a bad argument, or the registry is not running.
        """
        info: SessionInfo | None = await self._request("get", conversation_id=conversation_id)
        return info

    async def list(self) -> builtins.list[SessionInfo]:
        """Every conversation in the map, most recently active first.

        Raises:
            SessionCommandError: the registry is not running.
        """
        infos: builtins.list[SessionInfo] = await self._request("list")
        return infos

    def subscribe(self, conversation_id: str | None = None) -> Subscription:
        """Events of one conversation, or of all with ``None``; see ``Subscription``.

        Raises:
            SessionCommandError: ``conversation_id`` is neither None nor a
                non-empty string.
        """
        if conversation_id is not None and (
            not isinstance(conversation_id, str) or not conversation_id
        ):
            raise SessionCommandError(
                "subscribe",
                f"conversation_id must be None or a non-empty string, got {conversation_id!r}",
            )
        return Subscription(self, conversation_id)

    def watch(self, confirmations: ConfirmationRegistry) -> Callable[[], None]:
        """Publish the confirmations' transitions as session events.

        See ``session_event_for`` for the mapping. The observer never waits for the
        actor, and may be called on any thread; events that arrive while the
        registry is not running are dropped.

        Returns:
            A function that stops watching.
        """

        def observe(event: ConfirmationEvent) -> None:
            session_event = session_event_for(event)
            if session_event is not None:
                self._post("publish", event=session_event)

        return confirmations.subscribe(observe)

    # -- plumbing -----------------------------------------------------------------

    def _running_actor(self, kind: str) -> SessionActor:
        actor = self._actor
        if self._state == "stopped" or (actor is not None and actor.finished):
            raise SessionCommandError(kind, "the session registry was stopped")
        if actor is None:
            raise SessionCommandError(kind, "the session registry is not running: call start()")
        return actor

    async def _request(self, kind: str, **args: Any) -> Any:
        actor = self._running_actor(kind)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        actor.submit(Command(kind, args, answer, loop))
        return await answer

    def _post(self, kind: str, **args: Any) -> None:
        """Send a command without waiting for its answer; dropped when not running."""
        actor = self._actor
        if self._state != "running" or actor is None:
            logger.debug("session registry not running: %s dropped", kind)
            return
        actor.submit(Command(kind, args))

    async def _attach(self, mailbox: Mailbox) -> None:
        actor = self._running_actor("subscribe")
        if current_loop() is not actor.loop:
            raise SessionCommandError(
                "subscribe", "iterate a subscription on the event loop that started the registry"
            )
        await self._request("subscribe", mailbox=mailbox)

    def _detach(self, mailbox: Mailbox) -> None:
        self._post("unsubscribe", mailbox=mailbox)
