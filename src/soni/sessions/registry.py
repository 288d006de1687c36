"""The SessionRegistry: live conversations and their events, on one event loop."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from soni.engine import (
    ActionRan,
    BotEvent,
    ConfirmationChanged,
    ConversationReset,
    TurnCompleted,
)
from soni.sessions._table import Entry, SessionTable
from soni.sessions.errors import SessionCommandError
from soni.sessions.events import EVENT_TYPES, SessionEvent, SessionInfo
from soni.sessions.subscription import Broadcast, Mailbox, Subscription
from soni.sessions.watch import session_event_for

__all__ = ("SessionRegistry",)

logger = logging.getLogger("soni.sessions")

T = TypeVar("T")


class SessionRegistry:
    """The conversations in use, and a broadcast of what happens to them.

    The map of live conversations and the subscribers belong to the event loop that
    called ``start()`` and change only there, one synchronous step at a time, so
    they need no lock. A method called on that loop acts at once; one awaited on
    another thread's event loop is handed to the registry's loop
    (``call_soon_threadsafe``) and its answer handed back. The map is bounded:
    beyond ``max_sessions`` the least recently active conversations leave it (their
    state stays in the checkpointer), and those idle longer than ``idle_ttl`` are
    removed by a clean-up every ``clean_interval``.

    Args:
        max_sessions: How many conversations the map holds at most.
        idle_ttl: Seconds without a turn after which a conversation is removed.
        clean_interval: Seconds between two clean-ups.
        queue_size: How many unread events a subscriber may have before it is
            dropped with a ``lagged`` event.
        clock: Monotonic seconds, which ``idle_ttl`` is measured in; the event
            loop's clock by default (tests pass one they move themselves).

    Raises:
        ValueError: a setting is out of range.
    """

    def __init__(
        self,
        max_sessions: int = 10_000,
        idle_ttl: float = 3600.0,
        clean_interval: float = 60.0,
        queue_size: int = 256,
        clock: Callable[[], float] | None = None,
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
        self._clock = clock
        self._state: Literal["new", "running", "stopped"] = "new"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cleaner: asyncio.Task[None] | None = None
        self._table = SessionTable(max_sessions)
        self._broadcast = Broadcast()

    @property
    def running(self) -> bool:
        """Started and not stopped."""
        return self._state == "running"

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Bind the registry to the running event loop and start the idle clean-up.

        Raises:
            SessionCommandError: it was started before.
        """
        if self._state != "new":
            raise SessionCommandError("start", f"the session registry was {self._state} before")
        self._loop = asyncio.get_running_loop()
        self._cleaner = self._loop.create_task(self._clean_up(), name="soni-session-clean-up")
        self._state = "running"

    async def stop(self) -> None:
        """Stop the clean-up and end every subscriber's iteration; idempotent.

        Later calls raise ``SessionCommandError``. A stopped registry cannot be
        started again.
        """
        if self._state == "stopped":
            return
        loop, self._state = self._loop, "stopped"
        if loop is None:
            return
        if _current_loop() is not loop:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nothing to end
                await _hand_over(loop, self._shut)
            return
        self._shut()
        assert self._cleaner is not None
        await asyncio.wait([self._cleaner])

    def _shut(self) -> None:
        assert self._cleaner is not None
        self._cleaner.cancel()
        self._broadcast.end_all()

    async def _clean_up(self) -> None:
        while True:
            await asyncio.sleep(self.clean_interval)
            try:
                self._remove_idle()
            except Exception:  # a bug must not end the clean-ups to come
                logger.exception("session clean-up failed")

    # -- the API ------------------------------------------------------------------

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
        await self._call(
            "record_turn",
            lambda: self._record_turn(
                conversation_id, status, pending, active_flow, user_id, replies
            ),
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
        """``record_turn`` without awaiting: for a server answering a turn.

        On the registry's event loop the turn is recorded before this returns, so
        turns posted in order are recorded in order. A bad turn is logged instead
        of raised, and nothing is recorded when the registry is not running.
        """
        self._post(
            "record_turn",
            lambda: self._record_turn(
                conversation_id, status, pending, active_flow, user_id, replies
            ),
        )

    def record(self, event: BotEvent) -> None:
        """Record a bot event: the registry follows a bot with
        ``bot.events.subscribe(sessions.record)``.

        ``TurnCompleted`` is recorded as ``record_turn`` would (its replies as
        ``{text, kind}``); ``ConversationReset`` removes the conversation with the
        reason ``reset`` (nothing happens when it is not in the map);
        ``ConfirmationChanged`` is published as the session event
        ``session_event_for`` makes of it, if any; ``ActionRan`` adds nothing (a
        guarded run's end is its confirmation's change). Like ``post_turn`` it does
        not wait and may be called on any thread: on the registry's loop, events are
        recorded in the order they come. A refused event is logged, and nothing is
        recorded when the registry is not running.

        Raises:
            SessionCommandError: ``event`` is not a bot event.
        """
        if isinstance(event, TurnCompleted):
            self._post(
                "record_turn",
                lambda: self._record_turn(
                    event.conversation_id,
                    event.status,
                    event.pending,
                    event.active_flow,
                    event.user_id,
                    [{"text": reply.text, "kind": reply.kind} for reply in event.replies],
                ),
            )
        elif isinstance(event, ConversationReset):
            self._post("remove", lambda: self._remove(event.conversation_id, "reset"))
        elif isinstance(event, ConfirmationChanged):
            session_event = session_event_for(event.confirmation)
            if session_event is not None:
                self._post("publish", lambda: self._publish(session_event))
        elif not isinstance(event, ActionRan):
            raise SessionCommandError("record", f"expected a bot event, got {event!r}")

    async def publish(self, event: SessionEvent) -> None:
        """Send an event to the subscribers of its conversation and of all.

        Raises:
            SessionCommandError: not a SessionEvent, an unknown type or ``lagged``,
                or the registry is not running.
        """
        await self._call("publish", lambda: self._publish(event))

    async def remove(self, conversation_id: str, reason: str) -> bool:
        """Forget a conversation, emitting ``session_removed`` with the reason.

        Returns:
            Whether it was in the map (nothing is emitted when it was not).

        Raises:
            SessionCommandError: a bad argument, or the registry is not running.
        """
        return await self._call("remove", lambda: self._remove(conversation_id, reason))

    async def get(self, conversation_id: str) -> SessionInfo | None:
        """The conversation's entry, or ``None`` when it is not in the map.

        Raises:
            SessionCommandError: a bad argument, or the registry is not running.
        """
        return await self._call("get", lambda: self._get(conversation_id))

    async def list(self) -> builtins.list[SessionInfo]:
        """Every conversation in the map, most recently active first.

        Raises:
            SessionCommandError: the registry is not running.
        """
        return await self._call("list", lambda: [e.info() for e in self._table.newest_first()])

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

    # -- getting onto the registry's loop -----------------------------------------

    def _running_loop(self, command: str) -> asyncio.AbstractEventLoop:
        if self._state == "stopped":
            raise SessionCommandError(command, "the session registry was stopped")
        if self._loop is None:
            raise SessionCommandError(command, "the session registry is not running: call start()")
        return self._loop

    async def _call(self, command: str, act: Callable[[], T]) -> T:
        """``act()`` on the registry's loop: here if this is it, else handed over."""
        loop = self._running_loop(command)
        if _current_loop() is loop:
            result = act()
            # Awaiting stays a scheduling point, as it is for every other awaitable: a
            # task recording turns in a loop must not starve the subscribers' readers.
            await asyncio.sleep(0)
            return result

        def act_if_running() -> T:
            self._running_loop(command)  # stopped while the call was on its way
            return act()

        try:
            answer = _hand_over(loop, act_if_running)
        except RuntimeError:  # its loop is closed
            raise SessionCommandError(command, "the session registry was stopped") from None
        return await answer

    def _post(self, command: str, act: Callable[[], object]) -> None:
        """``act()`` on the registry's loop without waiting; failures are logged."""
        loop = self._loop
        if self._state != "running" or loop is None:
            logger.debug("session registry not running: %s dropped", command)
            return
        if _current_loop() is loop:
            self._act_logged(command, act)
            return
        with contextlib.suppress(RuntimeError):  # its loop is closed: stopped
            loop.call_soon_threadsafe(self._act_logged, command, act)

    def _act_logged(self, command: str, act: Callable[[], object]) -> None:
        if self._state != "running":
            return
        try:
            act()
        except SessionCommandError as exc:
            logger.warning("%s", exc)
        except Exception:  # nobody awaits the answer: the server's turn must go on
            logger.exception("session command %r failed", command)

    def _attach(self, mailbox: Mailbox) -> None:
        loop = self._running_loop("subscribe")
        if _current_loop() is not loop:
            raise SessionCommandError(
                "subscribe", "iterate a subscription on the event loop that started the registry"
            )
        self._broadcast.add(mailbox)

    def _detach(self, mailbox: Mailbox) -> None:
        self._post("unsubscribe", lambda: self._broadcast.forget(mailbox))

    # -- the state, on the registry's loop ----------------------------------------

    def _record_turn(
        self,
        conversation_id: str,
        status: str,
        pending: int,
        active_flow: str | None,
        user_id: str | None,
        replies: Sequence[Mapping[str, Any]] | None,
    ) -> None:
        _require_id("record_turn", conversation_id)
        _require_text("record_turn", "status", status)
        if isinstance(pending, bool) or not isinstance(pending, int) or pending < 0:
            raise SessionCommandError("record_turn", f"pending must be a count, got {pending!r}")
        _require_optional_text("record_turn", "active_flow", active_flow)
        _require_optional_text("record_turn", "user_id", user_id)
        _require_replies(replies)
        now = datetime.now(UTC)
        entry, created = self._table.touch(conversation_id, now, self._monotonic())
        entry.status, entry.pending, entry.active_flow = status, pending, active_flow
        if user_id is not None:
            entry.user_id = user_id
        if created:
            for gone in self._table.make_room():
                self._removed(gone, "evicted", now)
        emit = self._broadcast.emit
        if not self._broadcast.follows(conversation_id):
            return  # nobody to tell: no events to build
        if created:
            emit(SessionEvent("session_started", conversation_id, {"user_id": entry.user_id}, now))
        turn = {
            "status": status,
            "active_flow": active_flow,
            "pending": pending,
            "replies": [dict(reply) for reply in replies or ()],
        }
        emit(SessionEvent("turn", conversation_id, turn, now))
        if status == "awaiting_confirmation":
            waiting = {"pending": pending, "active_flow": active_flow}
            emit(SessionEvent("awaiting_confirmation", conversation_id, waiting, now))

    def _publish(self, event: SessionEvent) -> None:
        if not isinstance(event, SessionEvent):
            raise SessionCommandError("publish", f"expected a SessionEvent, got {event!r}")
        if event.type not in EVENT_TYPES:
            raise SessionCommandError("publish", f"unknown event type {event.type!r}")
        if event.type == "lagged":
            raise SessionCommandError("publish", "'lagged' is sent by the registry only")
        if event.conversation_id is not None:
            _require_id("publish", event.conversation_id)
        self._broadcast.emit(event)

    def _remove(self, conversation_id: str, reason: str) -> bool:
        _require_id("remove", conversation_id)
        _require_text("remove", "reason", reason)
        entry = self._table.remove(conversation_id)
        if entry is None:
            return False
        self._removed(entry, reason, datetime.now(UTC))
        return True

    def _get(self, conversation_id: str) -> SessionInfo | None:
        _require_id("get", conversation_id)
        entry = self._table.get(conversation_id)
        return None if entry is None else entry.info()

    def _monotonic(self) -> float:
        if self._clock is not None:
            return self._clock()
        assert self._loop is not None
        return self._loop.time()

    def _remove_idle(self) -> None:
        gone = self._table.idle(self._monotonic() - self.idle_ttl)
        now = datetime.now(UTC)
        for entry in gone:
            self._removed(entry, "idle", now)
        if gone:
            logger.info("%d idle session(s) removed", len(gone))

    def _removed(self, entry: Entry, reason: str, at: datetime) -> None:
        data = {"reason": reason, "user_id": entry.user_id}
        self._broadcast.emit(SessionEvent("session_removed", entry.conversation_id, data, at))


def _current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _hand_over(loop: asyncio.AbstractEventLoop, act: Callable[[], T]) -> asyncio.Future[T]:
    """``act()`` on ``loop``, from another thread: its outcome, awaitable here."""
    answer: concurrent.futures.Future[T] = concurrent.futures.Future()
    loop.call_soon_threadsafe(_settle, answer, act)
    return asyncio.wrap_future(answer)


def _settle(answer: concurrent.futures.Future[T], act: Callable[[], T]) -> None:
    """Run ``act`` for a caller on another loop, unless it gave up (was cancelled)."""
    if not answer.set_running_or_notify_cancel():
        return
    try:
        answer.set_result(act())
    except BaseException as exc:
        answer.set_exception(exc)
        if not isinstance(exc, Exception):
            raise


def _require_id(command: str, conversation_id: object) -> None:
    if not isinstance(conversation_id, str) or not conversation_id:
        raise SessionCommandError(
            command, f"conversation_id must be a non-empty string, got {conversation_id!r}"
        )


def _require_text(command: str, name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise SessionCommandError(command, f"{name} must be a non-empty string, got {value!r}")


def _require_optional_text(command: str, name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise SessionCommandError(command, f"{name} must be a string or None, got {value!r}")


def _require_replies(replies: object) -> None:
    if replies is None:
        return
    if not isinstance(replies, list | tuple) or not all(isinstance(r, Mapping) for r in replies):
        raise SessionCommandError(
            "record_turn", f"replies must be a list of mappings, got {replies!r}"
        )
