"""The actor: the one task that owns the live conversations and the subscribers.

Commands arrive on a queue and are carried out one at a time, synchronously, so
the map needs no lock. A command that fails — refused, or broken by a bug — is
answered with a ``SessionCommandError``; the loop goes on to the next one.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from soni.errors import SessionCommandError
from soni.sessions._commands import Command, current_loop
from soni.sessions._table import Entry, SessionTable
from soni.sessions.events import EVENT_TYPES, SessionEvent, SessionInfo
from soni.sessions.subscription import Mailbox

__all__ = ("SessionActor",)

logger = logging.getLogger("soni.sessions")

STOP = "stop"


class SessionActor:
    """Serves commands from ``queue`` on the event loop it was created on."""

    def __init__(
        self, *, max_sessions: int, idle_ttl: float, clean_interval: float, queue_size: int
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Command] = asyncio.Queue()
        self.finished = False
        self._table = SessionTable(max_sessions)
        self._idle_ttl = idle_ttl
        self._clean_interval = clean_interval
        self._queue_size = queue_size
        # Subscribers by the conversation they follow (None: all), in arrival order.
        self._subscribers: dict[str | None, dict[Mailbox, None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self.handlers: dict[str, Callable[..., Any]] = {
            "record_turn": self.record_turn,
            "publish": self.publish,
            "remove": self.remove,
            "get": self.get,
            "list": self.list_sessions,
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "clean": self.clean,
        }
        # The argument names each command takes and needs, checked before the call
        # (a set comparison: binding a Signature costs more than most commands).
        self._arguments = {kind: _arguments(h) for kind, h in self.handlers.items()}

    # -- the loop -----------------------------------------------------------------

    def submit(self, command: Command) -> None:
        """Queue a command, from any thread."""
        if current_loop() is self.loop:
            self._accept(command)
            return
        try:
            self.loop.call_soon_threadsafe(self._accept, command)
        except RuntimeError:  # the loop is closed
            command.fail(SessionCommandError(command.kind, "the session registry was stopped"))

    def _accept(self, command: Command) -> None:
        if self.finished:
            command.fail(SessionCommandError(command.kind, "the session registry was stopped"))
        else:
            self.queue.put_nowait(command)

    async def run(self) -> None:
        self._timer = self.loop.call_later(self._clean_interval, self._tick)
        try:
            while True:
                command = await self.queue.get()
                if command.kind == STOP:
                    command.answer(None)
                    return
                self._execute(command)
        finally:
            self.finished = True
            self._timer.cancel()
            while not self.queue.empty():
                late = self.queue.get_nowait()
                late.fail(SessionCommandError(late.kind, "the session registry was stopped"))
            for group in self._subscribers.values():
                for mailbox in group:
                    mailbox.end()
            self._subscribers.clear()

    def _tick(self) -> None:
        if self.finished:
            return
        self._accept(Command("clean"))
        self._timer = self.loop.call_later(self._clean_interval, self._tick)

    def _execute(self, command: Command) -> None:
        kind = command.kind
        handler = self.handlers.get(kind)
        if handler is None:
            self._refuse(command, SessionCommandError(kind, "unknown command"))
            return
        accepted, required = self._arguments[kind]
        given = command.args.keys()
        if not given <= accepted or not required <= given:
            wrong = ", ".join(sorted(given - accepted)) or "none"
            missing = ", ".join(sorted(required - given)) or "none"
            problem = f"wrong arguments: unknown {wrong}; missing {missing}"
            self._refuse(command, SessionCommandError(kind, problem))
            return
        try:
            result = handler(**command.args)
        except SessionCommandError as exc:
            self._refuse(command, exc)
        except Exception as exc:
            logger.exception("session command %r failed", kind)
            error = SessionCommandError(kind, f"failed: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            command.fail(error)
        else:
            command.answer(result)

    @staticmethod
    def _refuse(command: Command, error: SessionCommandError) -> None:
        if command.future is None:
            logger.warning("%s", error)
        command.fail(error)

    # -- broadcasting -------------------------------------------------------------

    def _followed(self, conversation_id: str) -> bool:
        """Whether anyone follows this conversation (or every conversation)."""
        return None in self._subscribers or conversation_id in self._subscribers

    def _emit(self, event: SessionEvent) -> None:
        self._deliver(self._subscribers.get(None), event)
        if event.conversation_id is not None:
            self._deliver(self._subscribers.get(event.conversation_id), event)

    def _deliver(self, group: dict[Mailbox, None] | None, event: SessionEvent) -> None:
        if not group:
            return
        lagging = [m for m in group if not m.closed and not m.offer(event)]
        for mailbox in lagging:
            # Dropped rather than waited for: one slow reader must not hold up the rest.
            self._forget(mailbox)
            logger.warning(
                "session subscriber (%s) dropped: %d events unread",
                mailbox.conversation_id or "all conversations",
                mailbox.capacity,
            )
            notice = SessionEvent(
                "lagged", mailbox.conversation_id, {"queue_size": mailbox.capacity}
            )
            mailbox.end(notice)

    def _forget(self, mailbox: Mailbox) -> None:
        group = self._subscribers.get(mailbox.conversation_id)
        if group is not None:
            group.pop(mailbox, None)
            if not group:
                del self._subscribers[mailbox.conversation_id]

    def _removed(self, entry: Entry, reason: str, at: datetime) -> None:
        data = {"reason": reason, "user_id": entry.user_id}
        self._emit(SessionEvent("session_removed", entry.conversation_id, data, at))

    # -- commands -----------------------------------------------------------------

    def record_turn(
        self,
        conversation_id: str,
        *,
        status: str,
        pending: int,
        active_flow: str | None,
        user_id: str | None,
        replies: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        _require_id("record_turn", conversation_id)
        _require_text("record_turn", "status", status)
        if isinstance(pending, bool) or not isinstance(pending, int) or pending < 0:
            raise SessionCommandError("record_turn", f"pending must be a count, got {pending!r}")
        _require_optional_text("record_turn", "active_flow", active_flow)
        _require_optional_text("record_turn", "user_id", user_id)
        _require_replies(replies)
        now = datetime.now(UTC)
        entry, created = self._table.touch(conversation_id, now, self.loop.time())
        entry.status, entry.pending, entry.active_flow = status, pending, active_flow
        if user_id is not None:
            entry.user_id = user_id
        if created:
            for gone in self._table.make_room():
                self._removed(gone, "evicted", now)
        if not self._followed(conversation_id):
            return  # nobody to tell: no events to build
        if created:
            self._emit(
                SessionEvent("session_started", conversation_id, {"user_id": entry.user_id}, now)
            )
        turn = {
            "status": status,
            "active_flow": active_flow,
            "pending": pending,
            "replies": [dict(reply) for reply in replies or ()],
        }
        self._emit(SessionEvent("turn", conversation_id, turn, now))
        if status == "awaiting_confirmation":
            waiting = {"pending": pending, "active_flow": active_flow}
            self._emit(SessionEvent("awaiting_confirmation", conversation_id, waiting, now))

    def publish(self, event: SessionEvent) -> None:
        if not isinstance(event, SessionEvent):
            raise SessionCommandError("publish", f"expected a SessionEvent, got {event!r}")
        if event.type not in EVENT_TYPES:
            raise SessionCommandError("publish", f"unknown event type {event.type!r}")
        if event.type == "lagged":
            raise SessionCommandError("publish", "'lagged' is sent by the registry only")
        if event.conversation_id is not None:
            _require_id("publish", event.conversation_id)
        self._emit(event)

    def remove(self, conversation_id: str, reason: str) -> bool:
        _require_id("remove", conversation_id)
        _require_text("remove", "reason", reason)
        entry = self._table.remove(conversation_id)
        if entry is None:
            return False
        self._removed(entry, reason, datetime.now(UTC))
        return True

    def get(self, conversation_id: str) -> SessionInfo | None:
        _require_id("get", conversation_id)
        entry = self._table.get(conversation_id)
        return None if entry is None else entry.info()

    def list_sessions(self) -> list[SessionInfo]:
        return [entry.info() for entry in self._table.newest_first()]

    def subscribe(self, mailbox: Mailbox) -> None:
        if not isinstance(mailbox, Mailbox):
            raise SessionCommandError("subscribe", f"expected a Mailbox, got {mailbox!r}")
        if not mailbox.closed:
            self._subscribers.setdefault(mailbox.conversation_id, {})[mailbox] = None

    def unsubscribe(self, mailbox: Mailbox) -> None:
        if not isinstance(mailbox, Mailbox):
            raise SessionCommandError("unsubscribe", f"expected a Mailbox, got {mailbox!r}")
        self._forget(mailbox)
        mailbox.end()

    def clean(self) -> int:
        """Remove the conversations idle longer than ``idle_ttl``; returns how many."""
        gone = self._table.idle(self.loop.time() - self._idle_ttl)
        now = datetime.now(UTC)
        for entry in gone:
            self._removed(entry, "idle", now)
        if gone:
            logger.info("%d idle session(s) removed", len(gone))
        return len(gone)


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


def _arguments(handler: Callable[..., Any]) -> tuple[frozenset[str], frozenset[str]]:
    """The keyword arguments ``handler`` accepts, and those it requires."""
    parameters = inspect.signature(handler).parameters.values()
    named = [p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return (
        frozenset(p.name for p in named),
        frozenset(p.name for p in named if p.default is p.empty),
    )
