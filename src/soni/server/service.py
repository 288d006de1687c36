"""What the routes and the WebSocket protocol do, in one place.

Both transports call these methods, so ownership, the busy policy, metrics and the
session registry are handled the same way whichever way a request came in; the
results are the API's models, which HTTP returns and the WebSocket protocol dumps.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

from soni.confirmations import Choose, Execute, PendingConfirmation, Shown, parse_decision_message
from soni.confirmations.records import OPEN
from soni.engine.runtime import Bot, TurnResult
from soni.errors import SessionCommandError, UnknownConfirmation
from soni.server.auth import Caller
from soni.server.errors import ConversationBusy, ConversationNotFound
from soni.server.metrics import Metrics
from soni.server.ownership import Owners
from soni.server.schemas import (
    ConfirmationOut,
    ConfirmationsOut,
    ConversationOut,
    DecisionOut,
    TurnOut,
)
from soni.server.settings import ServerSettings
from soni.server.views import (
    active_flow,
    confirmation_out,
    pending_from_record,
    pending_from_view,
    replies_out,
    saved_status,
)
from soni.sessions import SessionEvent, SessionRegistry

__all__ = ("Conversations",)

logger = logging.getLogger("soni.server")

_OPEN = [status.value for status in OPEN]


class Conversations:
    """The server's operations on the bot's conversations and confirmations.

    Args:
        bot: The bot served.
        sessions: Where turns are recorded and events published.
        settings: The server's settings.
        metrics: The server's metrics.
    """

    def __init__(
        self, bot: Bot, sessions: SessionRegistry, settings: ServerSettings, metrics: Metrics
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.settings = settings
        self.metrics = metrics
        self.owners = Owners(bot.state)
        # Turns in flight per conversation, for the "reject" busy policy.
        self._running: dict[str, int] = {}

    # -- access -------------------------------------------------------------------

    async def _require(self, caller: Caller, conversation_id: str) -> None:
        """The conversation exists and the caller may see it; 404 otherwise."""
        exists, owner = await self.owners.owner(conversation_id)
        if not exists or (caller.checked and owner != caller.user_id):
            raise ConversationNotFound(conversation_id)

    async def _confirmation(self, caller: Caller, token: str) -> PendingConfirmation:
        """The confirmation a token opens, if the caller may use it; 404 otherwise."""
        record = await self.bot.engine.confirmations.get(token)
        # Another user's token answers exactly as an unknown one does.
        if (
            caller.checked
            and not self.settings.decide_by_token_alone
            and not await self.owners.is_owner(record.conversation_id, caller.user_id)
        ):
            raise UnknownConfirmation()
        return record

    async def check_subscription(self, caller: Caller, conversation_id: str | None) -> None:
        """Whether the caller may follow the conversation's events (or everyone's).

        A conversation nobody has started yet may be followed: its events are
        still filtered by owner as they arrive (see ``may_see``).
        """
        # Another user's conversation is followed like an unknown one: accepted,
        # and every event filtered by ``may_see`` — a refusal would tell the two
        # apart.

    async def may_see(self, caller: Caller, event: SessionEvent) -> bool:
        if not caller.checked or event.conversation_id is None:
            return True
        if event.type == "session_removed":
            # Sent after the owner is forgotten: it names whose conversation it was.
            return event.data.get("user_id") == caller.user_id
        return await self.owners.is_owner(event.conversation_id, caller.user_id)

    # -- turns --------------------------------------------------------------------

    @contextlib.contextmanager
    def _turn(self, conversation_id: str, *, refusable: bool) -> Iterator[None]:
        running = self._running.get(conversation_id, 0)
        if refusable and running and self.settings.busy_policy == "reject":
            raise ConversationBusy(conversation_id)
        self._running[conversation_id] = running + 1
        try:
            yield
        finally:
            left = self._running[conversation_id] - 1
            if left:
                self._running[conversation_id] = left
            else:
                del self._running[conversation_id]

    def _record(self, result: TurnResult, user_id: str | None) -> None:
        # Queued without waiting: the answer need not wait for the event fan-out,
        # and the actor keeps the conversation's events in order.
        self.sessions.post_turn(
            result.conversation_id,
            status=result.status,
            pending=len(result.pending),
            active_flow=result.active_flow,
            user_id=user_id,
            replies=[{"text": r.text, "kind": r.kind} for r in result.replies],
        )

    async def message(
        self, caller: Caller, conversation_id: str, text: str, user_id: str | None = None
    ) -> TurnOut:
        """Run one chat turn."""
        if caller.checked:
            user_id = caller.user_id
            assert user_id is not None
            if not await self.owners.claim(conversation_id, user_id):
                raise ConversationNotFound(conversation_id)
        with self._turn(conversation_id, refusable=True):
            started = time.perf_counter()
            result = await self.bot.handle(conversation_id, text, user_id=user_id)
            self.metrics.observe_turn("message", time.perf_counter() - started)
        self._record(result, user_id)
        return TurnOut(
            conversation_id=conversation_id,
            replies=replies_out(result.replies),
            pending=[pending_from_view(p) for p in result.pending],
            status=result.status,
            active_flow=result.active_flow,
        )

    # -- decisions ----------------------------------------------------------------

    async def decide(
        self, caller: Caller, token: str, decision: str, *, channel: str
    ) -> DecisionOut:
        """Decide a confirmation out of band and resume its conversation."""
        record = await self._confirmation(caller, token)
        conversation_id = record.conversation_id
        with self._turn(conversation_id, refusable=False):
            started = time.perf_counter()
            result = await self.bot.decide(token, decision, actor=caller.user_id, channel=channel)
            self.metrics.observe_turn("decision", time.perf_counter() - started)
        self._record(result, None)
        after = await self.bot.engine.confirmations.get(token)
        return DecisionOut(
            conversation_id=conversation_id,
            decision=after.decision or decision,
            status=result.status,
            active_flow=result.active_flow,
            replies=replies_out(result.replies),
            pending=[pending_from_view(p) for p in result.pending],
            confirmation=confirmation_out(after),
        )

    async def decision_message(self, caller: Caller, text: str, *, channel: str) -> DecisionOut:
        """Apply a decision protocol message (``EXECUTE:<token>``, ``SHOWN:<token>``, …)."""
        message = parse_decision_message(text)
        if isinstance(message, Shown):
            record = await self._confirmation(caller, message.token)
            shown = await self.bot.engine.confirmations.mark_shown(
                message.token, actor=caller.user_id, channel=channel
            )
            return DecisionOut(
                conversation_id=record.conversation_id,
                decision="shown",
                status=None,
                active_flow=None,
                replies=[],
                pending=[],
                confirmation=confirmation_out(shown),
            )
        if isinstance(message, Execute):
            decision = "approve"
        elif isinstance(message, Choose):
            decision = message.option
        else:
            decision = "skip"
        return await self.decide(caller, message.token, decision, channel=channel)

    async def confirmation(self, caller: Caller, token: str, wait: float = 0) -> ConfirmationOut:
        """A confirmation's state, after waiting up to ``wait`` seconds for it to close."""
        await self._confirmation(caller, token)
        confirmations = self.bot.engine.confirmations
        wait = min(max(wait, 0.0), self.settings.long_poll_max)
        record: PendingConfirmation | None = None
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                record = await confirmations.wait(token, timeout=wait)
        if record is None:
            record = await confirmations.expire_if_due(token)
        return confirmation_out(record)

    # -- conversations ------------------------------------------------------------

    async def conversation(self, caller: Caller, conversation_id: str) -> ConversationOut:
        """Where a conversation is, from its saved state."""
        state: dict[str, Any] = await self.bot.state(conversation_id)
        if not state or (caller.checked and state.get("user_id") != caller.user_id):
            raise ConversationNotFound(conversation_id)
        confirmations = self.bot.engine.confirmations
        waiting = await confirmations.list(conversation_id=conversation_id, status=_OPEN)
        pending = [pending_from_record(record, confirmations) for record in waiting]
        return ConversationOut(
            conversation_id=conversation_id,
            user_id=state.get("user_id"),
            status=saved_status(state, bool(pending)),
            active_flow=active_flow(state),
            flows=[frame["flow"] for frame in state.get("stack") or []],
            slots=dict(state.get("slots") or {}),
            pending=pending,
            replies=replies_out(state.get("replies") or []),
        )

    async def confirmations(self, caller: Caller, conversation_id: str) -> ConfirmationsOut:
        """Every confirmation of a conversation, oldest first; tokens of the open ones."""
        await self._require(caller, conversation_id)
        confirmations = self.bot.engine.confirmations
        records = await confirmations.list(conversation_id=conversation_id)
        if caller.checked:
            # After a reset, the id may have passed to another user: their view
            # holds only the confirmations asked of them.
            records = [r for r in records if r.user_id == caller.user_id]
        return ConfirmationsOut(
            conversation_id=conversation_id,
            confirmations=[
                confirmation_out(
                    record, confirmations.known_token(record.id) if record.is_open else None
                )
                for record in records
            ],
        )

    async def reset(self, caller: Caller, conversation_id: str) -> None:
        """Forget a conversation; its open confirmations are cancelled."""
        await self._require(caller, conversation_id)
        await self.bot.reset(conversation_id)
        self.owners.forget(conversation_id)
        try:
            await self.sessions.remove(conversation_id, "reset")
        except SessionCommandError as exc:
            logger.warning("reset of %s not announced: %s", conversation_id, exc)
