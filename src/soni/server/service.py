"""What the routes and the WebSocket protocol do, in one place.

Both transports call these methods, so namespaces, the busy policy, metrics and
the session registry are handled the same way whichever way a request came in; the
results are the API's models, which HTTP returns and the WebSocket protocol dumps.

With API keys on, a caller's conversation ids are qualified with its user before
they reach the bot (``soni.server.namespace``), and every id the server answers or
streams is the caller's own again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

from soni.confirmations import Choose, Execute, PendingConfirmation, Shown, parse_decision_message
from soni.confirmations.errors import UnknownConfirmation
from soni.confirmations.records import OPEN, Status
from soni.engine import Bot
from soni.server.auth import ANONYMOUS, Caller
from soni.server.errors import ConversationBusy, ConversationNotFound
from soni.server.metrics import Metrics
from soni.server.namespace import check_conversation_id, in_namespace, qualify, unqualify
from soni.server.settings import ServerSettings
from soni.server.views import (
    active_flow,
    confirmation_out,
    pending_from_record,
    pending_from_view,
    replies_out,
    saved_status,
)
from soni.sessions import SessionEvent
from soni.wire import (
    ConfirmationOut,
    ConfirmationsOut,
    ConversationOut,
    DecisionOut,
    InboxOut,
    TurnOut,
)

__all__ = ("Conversations",)

logger = logging.getLogger("soni.server")

_OPEN = [status.value for status in OPEN]


class Conversations:
    """The server's operations on the bot's conversations and confirmations.

    Args:
        bot: The bot served (its events reach the session registry: see ``create_app``).
        settings: The server's settings.
        metrics: The server's metrics.
    """

    def __init__(self, bot: Bot, settings: ServerSettings, metrics: Metrics) -> None:
        self.bot = bot
        self.settings = settings
        self.metrics = metrics
        # Whether conversation ids are qualified by user: API keys are on.
        self.namespaced = settings.auth_enabled
        # Turns in flight per conversation (the bot's id), for the "reject" busy policy.
        self._running: dict[str, int] = {}

    # -- ids and access -------------------------------------------------------------

    def inner_id(self, caller: Caller, conversation_id: str) -> str:
        """The bot's id for the caller's ``conversation_id``.

        Raises:
            InvalidConversationId: not an id the server takes (422).
        """
        check_conversation_id(conversation_id)
        if caller.checked and caller.user_id is not None:
            return qualify(caller.user_id, conversation_id)
        return conversation_id

    def outer_id(self, inner: str) -> str:
        """A bot's conversation id as its owner knows it."""
        return unqualify(inner)[1] if self.namespaced else inner

    async def _require(self, caller: Caller, conversation_id: str) -> str:
        """The bot's id of the caller's conversation, which must exist; 404 otherwise."""
        inner = self.inner_id(caller, conversation_id)
        if not await self.bot.state(inner):
            raise ConversationNotFound(conversation_id)
        return inner

    async def _confirmation(self, caller: Caller, token: str) -> PendingConfirmation:
        """The confirmation a token opens, if the caller may use it; 404 otherwise."""
        record = await self.bot.confirmations.get(token)
        if self.namespaced and not self.settings.decide_by_token_alone:
            user_id = caller.user_id if caller.checked else None
            # The record's own user, not whoever holds its conversation's name now:
            # another user's token answers exactly as an unknown one does.
            if (
                user_id is None
                or record.user_id != user_id
                or not in_namespace(record.conversation_id, user_id)
            ):
                raise UnknownConfirmation()
        return record

    def _confirmation_out(
        self, record: PendingConfirmation, token: str | None = None
    ) -> ConfirmationOut:
        shown = self.outer_id(record.conversation_id)
        return confirmation_out(record, token, conversation_id=shown)

    # -- events ---------------------------------------------------------------------

    def subscription_id(self, caller: Caller, conversation_id: str | None) -> str | None:
        """The bot's id of the conversation a subscription follows (``None``: all).

        Another user's conversation cannot even be named: the caller's id reaches
        the caller's own conversation, started or not.

        Raises:
            InvalidConversationId: not an id the server takes (422).
        """
        if conversation_id is None:
            return None
        return self.inner_id(caller, conversation_id)

    def event_data(self, caller: Caller, event: SessionEvent) -> dict[str, Any] | None:
        """The event as the caller receives it, or ``None`` if it is not the caller's.

        With API keys on, a subscriber receives only the events of its own
        conversations (and those about no conversation, such as ``lagged``), with
        its own ids.
        """
        inner = event.conversation_id
        if (
            inner is not None
            and caller.checked
            and caller.user_id is not None
            and not in_namespace(inner, caller.user_id)
        ):
            return None
        data = event.to_data()
        if inner is not None and self.namespaced:
            data["conversation_id"] = self.outer_id(inner)
        return data

    # -- turns --------------------------------------------------------------------

    @contextlib.contextmanager
    def _turn(self, inner: str, shown: str, *, refusable: bool) -> Iterator[None]:
        running = self._running.get(inner, 0)
        if refusable and running and self.settings.busy_policy == "reject":
            raise ConversationBusy(shown)
        self._running[inner] = running + 1
        try:
            yield
        finally:
            left = self._running[inner] - 1
            if left:
                self._running[inner] = left
            else:
                del self._running[inner]

    async def message(
        self, caller: Caller, conversation_id: str, text: str, user_id: str | None = None
    ) -> TurnOut:
        """Run one chat turn; an id the caller has not used yet starts a conversation."""
        inner = self.inner_id(caller, conversation_id)
        if caller.checked:
            user_id = caller.user_id
        # Waited for here (queue) or not at all (reject); another worker's turn of
        # the conversation counts as much as one of this process.
        wait = 0.0 if self.settings.busy_policy == "reject" else self.settings.busy_wait
        with self._turn(inner, conversation_id, refusable=True):
            started = time.perf_counter()
            try:
                result = await self.bot.handle(inner, text, user_id=user_id, wait=wait)
            except ConversationBusy as busy:
                raise ConversationBusy(conversation_id, busy.reason) from None
            self.metrics.observe_turn("message", time.perf_counter() - started)
        return TurnOut(
            conversation_id=conversation_id,
            replies=replies_out(result.replies),
            pending=tuple(pending_from_view(p) for p in result.pending),
            status=result.status,
            active_flow=result.active_flow,
        )

    # -- decisions ----------------------------------------------------------------

    async def decide(
        self, caller: Caller, token: str, decision: str, *, channel: str
    ) -> DecisionOut:
        """Decide a confirmation out of band and resume its conversation."""
        record = await self._confirmation(caller, token)
        inner = record.conversation_id
        shown = self.outer_id(inner)
        with self._turn(inner, shown, refusable=False):
            started = time.perf_counter()
            result = await self.bot.decide(token, decision, actor=caller.user_id, channel=channel)
            self.metrics.observe_turn("decision", time.perf_counter() - started)
        after = await self.bot.confirmations.get(token)
        return DecisionOut(
            conversation_id=shown,
            decision=after.decision or decision,
            status=result.status,
            active_flow=result.active_flow,
            replies=replies_out(result.replies),
            pending=tuple(pending_from_view(p) for p in result.pending),
            confirmation=self._confirmation_out(after),
        )

    async def decision_message(self, caller: Caller, text: str, *, channel: str) -> DecisionOut:
        """Apply a decision protocol message (``EXECUTE:<token>``, ``SHOWN:<token>``, …)."""
        message = parse_decision_message(text)
        if isinstance(message, Shown):
            record = await self._confirmation(caller, message.token)
            shown = await self.bot.confirmations.mark_shown(
                message.token, actor=caller.user_id, channel=channel
            )
            return DecisionOut(
                conversation_id=self.outer_id(record.conversation_id),
                decision="shown",
                status=None,
                active_flow=None,
                replies=(),
                pending=(),
                confirmation=self._confirmation_out(shown),
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
        confirmations = self.bot.confirmations
        wait = min(max(wait, 0.0), self.settings.long_poll_max)
        record: PendingConfirmation | None = None
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                record = await confirmations.wait(token, timeout=wait)
        if record is None:
            record = await confirmations.expire_if_due(token)
        return self._confirmation_out(record)

    # -- conversations ------------------------------------------------------------

    async def conversation(self, caller: Caller, conversation_id: str) -> ConversationOut:
        """Where a conversation is, from its saved state."""
        inner = self.inner_id(caller, conversation_id)
        state: dict[str, Any] = await self.bot.state(inner)
        if not state:
            raise ConversationNotFound(conversation_id)
        confirmations = self.bot.confirmations
        waiting = await confirmations.list(conversation_id=inner, status=_OPEN)
        pending = [pending_from_record(record, confirmations) for record in waiting]
        return ConversationOut(
            conversation_id=conversation_id,
            user_id=state.get("user_id"),
            status=saved_status(state, bool(pending)),
            active_flow=active_flow(state),
            flows=tuple(frame["flow"] for frame in state.get("stack") or []),
            slots=dict(state.get("slots") or {}),
            pending=tuple(pending),
            replies=replies_out(state.get("replies") or []),
        )

    async def conversation_by_inner_id(self, inner: str) -> dict[str, Any]:
        """A conversation as its owner sees it (``GET /conversations/{id}``), by the bot's
        id: for an action worker asking about the conversation its command runs for."""
        user_id, shown = unqualify(inner) if self.namespaced else (None, inner)
        owner = Caller(user_id, True) if user_id is not None else ANONYMOUS
        view = await self.conversation(owner, shown)
        return view.model_dump(mode="json", by_alias=True)

    async def confirmations(self, caller: Caller, conversation_id: str) -> ConfirmationsOut:
        """Every confirmation of a conversation, oldest first; tokens of the open ones."""
        inner = await self._require(caller, conversation_id)
        confirmations = self.bot.confirmations
        records = await confirmations.list(conversation_id=inner)
        return ConfirmationsOut(
            conversation_id=conversation_id,
            confirmations=tuple(
                self._confirmation_out(record, confirmations.token_of(record)) for record in records
            ),
        )

    async def inbox(self, caller: Caller, *, open_: bool, limit: int) -> InboxOut:
        """The caller's confirmations across its conversations: the open ones (with
        tokens), newest first, or the closed ones (decided, expired, withdrawn…), the
        latest closed first."""
        confirmations = self.bot.confirmations
        statuses = _OPEN if open_ else [s.value for s in Status if s.value not in _OPEN]
        own = caller.checked and caller.user_id is not None
        newest = await confirmations.list(
            status=statuses,
            # With keys on, the caller's conversations are those under its prefix.
            conversation_prefix=qualify(caller.user_id, "") if own and caller.user_id else None,
            # Open: the newest asked first; closed: the latest decided (or expired) first.
            newest_first=open_,
            changed_first=not open_,
            limit=limit,
        )
        return InboxOut(
            confirmations=tuple(
                self._confirmation_out(record, confirmations.token_of(record) if open_ else None)
                for record in newest
            )
        )

    async def reset(self, caller: Caller, conversation_id: str) -> None:
        """Forget a conversation; its open confirmations are cancelled."""
        inner = await self._require(caller, conversation_id)
        await self.bot.reset(inner)
