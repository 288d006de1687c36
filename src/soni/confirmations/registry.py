"""The ConfirmationRegistry: pending confirmations from registration to execution.

Every state change goes through the store's compare-and-set ``transition``, so when
decisions race (a chat reply, a link, a WebSocket client, another process) exactly
one is recorded and the others learn what it was. A token is derived from its
confirmation's id under the registry's secret, so every registry holding that
secret can show it again; the store only sees its SHA-256.

Registering, reading and deciding are here. What every write must be followed by
is in ``_ledger``; running approved actions in ``execution``; withdrawal, expiry
and purging in ``_closing``; waiting in ``_waiting``.
"""

from __future__ import annotations

import builtins
import hmac
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from soni.confirmations._closing import Closing
from soni.confirmations._ledger import Ledger
from soni.confirmations._relay import relay
from soni.confirmations._support import Clock, Ref, to_seconds, uncancellable, utcnow
from soni.confirmations._waiting import wait_until_closed
from soni.confirmations.decisions import ActionOffer, interpret, offered_calls, settled
from soni.confirmations.errors import ConfirmationError, ConfirmationExpired
from soni.confirmations.events import ConfirmationEvent, Observer
from soni.confirmations.execution import Execution, Executions
from soni.confirmations.lifecycle import APPROVE, CANCEL, EXPIRE, SHOW, SUPERSEDE
from soni.confirmations.protocol import Choose, Execute, Shown, Skip, parse_decision_message
from soni.confirmations.records import (
    SYSTEM,
    Actor,
    HistoryEntry,
    PendingConfirmation,
    Status,
    canonical_json,
)
from soni.confirmations.runners import Runner, runners_folder
from soni.confirmations.stores.base import Change, ConfirmationStore
from soni.confirmations.stores.memory import MemoryConfirmationStore
from soni.confirmations.stores.sqlite import SqliteConfirmationStore
from soni.confirmations.tokens import (
    SECRET_BYTES,
    derive_token,
    hash_token,
    made_under,
    new_confirmation_id,
    new_secret,
)

__all__ = ("ActionOffer", "ConfirmationEvent", "ConfirmationRegistry", "Execution")

logger = logging.getLogger("soni.confirmations")

_REGISTER_ATTEMPTS = 8


class ConfirmationRegistry:
    """Registers pending confirmations and records exactly one decision for each.

    Args:
        store: Where confirmations live; in memory if omitted.
        clock: Returns the current time (timezone-aware); inject one in tests.
        default_ttl: Seconds (or a timedelta) a confirmation waits by default.
        retention: How long closed confirmations are kept for audit before
            ``purge`` deletes them.
        poll_interval: How often ``wait`` re-reads the store, to see decisions made
            by other processes.
        sweep_batch: How many expiries ``cleanup_expired`` records per transaction.
        runner: Who this registry claims runs as (``begin_execution``), and how it
            tells whether another runner is alive. If omitted: for a SQLite file,
            one holding its lock beside it (``runners_folder``), as a ``Bot`` and
            the CLI do; otherwise one known only to this process.
        secret: The key tokens are derived under (at least 32 bytes; see
            ``soni.confirmations.secret`` for where a deployment keeps it). Every
            registry with the same secret on the same store shows the same tokens
            — after a restart, or in another worker. If omitted, a random one for
            this registry alone: its tokens are shown by it only, as long as it lives.

    All methods are safe to call concurrently from tasks, threads (each with its
    own event loop) and, with a shared ``SqliteConfirmationStore``, processes.
    """

    def __init__(
        self,
        store: ConfirmationStore | None = None,
        *,
        clock: Clock | None = None,
        default_ttl: float | timedelta = 300.0,
        retention: float | timedelta = timedelta(days=30),
        poll_interval: float = 0.25,
        sweep_batch: int = 10_000,
        runner: Runner | None = None,
        secret: bytes | None = None,
    ) -> None:
        self.store: ConfirmationStore = store if store is not None else MemoryConfirmationStore()
        self.runner = runner if runner is not None else Runner(_runners_folder_of(self.store))
        self.clock: Clock = clock or utcnow
        self.default_ttl = to_seconds(default_ttl)
        self.retention = to_seconds(retention)
        if self.default_ttl <= 0:
            raise ValueError(f"default_ttl must be positive, got {self.default_ttl}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        if sweep_batch <= 0:
            raise ValueError(f"sweep_batch must be positive, got {sweep_batch}")
        if secret is not None and len(secret) < SECRET_BYTES:
            # The length only: a secret never appears in a message.
            raise ValueError(f"secret must hold at least {SECRET_BYTES} bytes, got {len(secret)}")
        self._secret = secret if secret is not None else new_secret()
        self.poll_interval = poll_interval
        self.sweep_batch = sweep_batch
        # The parts read ``store``, ``clock`` and the settings above from here on
        # every call, so changing one of them (a test's clock) reaches them all.
        self._ledger = Ledger(self)
        self._executions = Executions(self, self._ledger)
        self._closing = Closing(self, self._ledger)

    async def __aenter__(self) -> ConfirmationRegistry:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the store, and stop being a runner: unfinished runs count as interrupted."""
        self.runner.close()
        await self.store.close()

    # -- registering --------------------------------------------------------------

    async def register(
        self,
        *,
        conversation_id: str,
        actions: Sequence[ActionOffer],
        prompt: str,
        user_id: str | None = None,
        key: str | None = None,
        ttl: float | timedelta | None = None,
        kind: Literal["single", "choice"] | None = None,
    ) -> tuple[PendingConfirmation, str]:
        """Create a pending confirmation and its token.

        Args:
            conversation_id: The conversation that waits for the decision.
            actions: The offered calls; more than one makes a choice.
            prompt: The question shown to the user.
            user_id: The user who is asked.
            key: Idempotency key, e.g. conversation + flow frame + step. While a
                confirmation with this key is open, registering the same actions
                again returns it with the same token — from any registry with this
                one's secret; registering different actions (a corrected value),
                or registering from a registry that cannot show its token (another
                secret), supersedes it with a new one.
            ttl: Seconds (or a timedelta) until it expires.
            kind: ``single`` or ``choice``; by default from the number of actions.

        Returns:
            The record and its token. Only the token's hash is stored: give the
            token to the user, it is the only way to decide. ``token_of`` shows it
            again while the confirmation is open.

        Raises:
            ValueError: no actions, options with the same name, arguments that are
                not JSON, a ttl that is not positive.
        """
        calls, kind = offered_calls(actions, kind)
        names = [c.name for c in calls]
        seconds = self.default_ttl if ttl is None else to_seconds(ttl)
        if seconds <= 0:
            raise ValueError(f"ttl must be positive, got {seconds}")
        offered = canonical_json([c.to_json() for c in calls])

        # Insert first: the store refuses a key that an open record holds, so the
        # common case (nothing open under the key) is one write, no look-up.
        look_up = False
        for _ in range(_REGISTER_ATTEMPTS):
            now = self.clock()
            if key is not None and look_up:
                existing = await self.store.find_open_by_key(key)
                if existing is not None:
                    reused = await self._reuse(existing, offered, kind, now)
                    if reused is not None:
                        return reused
            confirmation_id = new_confirmation_id(self._secret)
            token = derive_token(self._secret, confirmation_id)
            record = PendingConfirmation(
                id=confirmation_id,
                token_hash=hash_token(token),
                conversation_id=conversation_id,
                user_id=user_id,
                kind=kind,
                actions=calls,
                prompt=prompt,
                created_at=now,
                expires_at=now + timedelta(seconds=seconds),
                key=key,
                updated_at=now,
            )
            if await uncancellable(self._ledger.insert(record)):
                logger.debug(
                    "confirmation %s registered for %s: %s", record.id, conversation_id, names
                )
                return record, token
            look_up = True
        raise ConfirmationError(
            f"could not register a confirmation under key {key!r}: it kept being replaced"
        )

    async def _reuse(
        self, existing: PendingConfirmation, offered: str, kind: str, now: datetime
    ) -> tuple[PendingConfirmation, str] | None:
        """Hand back an open confirmation with the same key, or close it for a new one."""
        if existing.expires_at <= now:
            await self._ledger.close(existing, EXPIRE, SYSTEM, now, expired=True)
            return None
        token = self.token_of(existing)
        if token is not None and existing.actions_json() == offered and existing.kind == kind:
            return existing, token
        # Different actions (a corrected value), or a token this registry cannot
        # show (made under another secret): the caller could not hand the old one
        # out, so it is replaced by one it can.
        await self._ledger.close(existing, SUPERSEDE, SYSTEM, now)
        return None

    # -- reading ------------------------------------------------------------------

    async def get(self, token: str) -> PendingConfirmation:
        """The confirmation a token stands for.

        Raises:
            UnknownConfirmation: malformed or unknown token.
        """
        return await self._ledger.find(token)

    def token_of(self, record: PendingConfirmation) -> str | None:
        """The token of an open confirmation, or ``None``.

        Derived from the record's id under this registry's secret and checked
        against the hash the store keeps, so it is ``None`` for a record that is
        no longer open (as far as ``record`` tells) and for one whose token was
        made under another secret (before a rotation; such a token still decides,
        but cannot be shown). Reads nothing from the store.

        Show the token only to whoever may decide the confirmation: it is the
        capability, where the id grants nothing.
        """
        if not record.is_open:
            return None
        token = derive_token(self._secret, record.id)
        return token if hmac.compare_digest(hash_token(token), record.token_hash) else None

    def known_token(self, confirmation_id: str) -> str | None:
        """The token of a confirmation made under this registry's secret, by id alone.

        For callers that have only an id. The id itself tells whether a registry
        with this secret made it (see ``tokens.made_under``); if not — another
        secret, one from before a rotation, an id made by hand — this is ``None``.
        Without the record it cannot tell whether the confirmation is still open:
        a closed one's token decides nothing but gets its recorded outcome.
        Callers holding the record use ``token_of``, which checks that too.
        """
        if not made_under(self._secret, confirmation_id):
            return None
        return derive_token(self._secret, confirmation_id)

    async def expire_if_due(self, token: Ref) -> PendingConfirmation:
        """The confirmation, its expiry recorded now if its time ran out while open.

        The sweeper records expiries every few seconds; a caller about to act on an
        open confirmation calls this so that what it does never depends on whether
        the sweeper has run yet.

        Raises:
            UnknownConfirmation: malformed or unknown token.
        """
        record = await self._ledger.held(token, EXPIRE)
        now = self.clock()
        if record.is_open and record.expires_at <= now:
            record = await self._ledger.expire(record, now)
        return record

    async def get_by_id(self, confirmation_id: str) -> PendingConfirmation | None:
        """The confirmation with this id (ids grant nothing; tokens do)."""
        return await self.store.get(confirmation_id)

    async def list(
        self,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        status: str | Collection[str] | None = None,
        limit: int | None = None,
        conversation_prefix: str | None = None,
        newest_first: bool = False,
        changed_first: bool = False,
    ) -> builtins.list[PendingConfirmation]:
        """Confirmations matching every given filter, oldest first (``newest_first``:
        newest first, so that ``limit`` keeps the latest).

        ``status`` is one status or several (``"pending"``, ``{"pending", "shown"}``);
        ``conversation_prefix`` keeps the conversations whose id starts with it;
        ``changed_first`` orders by the last transition instead, latest first.
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        statuses: set[Status] | None = None
        if status is not None:
            statuses = {Status(status)} if isinstance(status, str) else {Status(s) for s in status}
        return await self.store.query(
            conversation_id=conversation_id,
            user_id=user_id,
            statuses=statuses,
            limit=limit,
            conversation_prefix=conversation_prefix,
            newest_first=newest_first,
            changed_first=changed_first,
        )

    async def history(self, confirmation_id: str) -> builtins.list[HistoryEntry]:
        """Every transition of the confirmation, oldest first (empty if unknown)."""
        return await self.store.history(confirmation_id)

    # -- deciding -----------------------------------------------------------------

    async def decide(
        self,
        token: Ref,
        decision: str,
        *,
        actor: str | Actor | None = None,
        channel: str = "api",
    ) -> PendingConfirmation:
        """Record the user's decision: ``"approve"``, ``"skip"`` or an offered option's name.

        Exactly one decision is ever recorded. Repeating it returns the recorded
        outcome; a different one raises ``AlreadyDecided``.

        Args:
            token: The confirmation's token (or its record, for in-process callers).
            decision: ``"approve"`` (a single action, or a choice of one),
                ``"skip"``, or the name of one offered action.
            actor: Who decides: a user id or an ``Actor``.
            channel: Where the decision came from (``chat``, ``http``, ``ws``, ``cli``…)
                when ``actor`` is a user id.

        Returns:
            The record with the decision.

        Raises:
            UnknownConfirmation: malformed or unknown token.
            InvalidDecision: the decision names no offered option.
            ConfirmationExpired: its time ran out (recorded as ``expired``).
            AlreadyDecided: another decision was recorded first.
            ConfirmationClosed: it was superseded or cancelled.
        """
        who = actor if isinstance(actor, Actor) else Actor(actor, channel)
        ledger = self._ledger
        record = await ledger.held(token, APPROVE)  # a skip starts from the same statuses
        decided_by, chosen = interpret(record, decision)
        if record.is_open:
            now = self.clock()
            if record.expires_at > now:
                change = Change(decided_by, now, who, decided=True, chosen=chosen)
                updated = await ledger.transition(record.id, change, unexpired=True)
                if updated is not None:
                    logger.info(
                        "confirmation %s %s by %s",
                        updated.id,
                        updated.decision or decided_by.target,
                        who,
                    )
                    return updated
                # Lost a race: another decision, or the expiry, got there first.
                record = await ledger.resolve(record)
            if record.is_open:
                record = await ledger.expire(record, now)
        return settled(record, decided_by, chosen)

    async def mark_shown(
        self, token: Ref, *, actor: str | Actor | None = None, channel: str = "api"
    ) -> PendingConfirmation:
        """Record that the notification was displayed (``pending`` → ``shown``).

        Harmless when it was shown or decided already.

        Raises:
            UnknownConfirmation: malformed or unknown token.
            ConfirmationExpired: its time ran out.
        """
        who = actor if isinstance(actor, Actor) else Actor(actor, channel)
        ledger = self._ledger
        record = await ledger.resolve(token)
        now = self.clock()
        if record.status is Status.PENDING and record.expires_at > now:
            updated = await ledger.transition(record.id, Change(SHOW, now, who), unexpired=True)
            if updated is not None:
                return updated
            record = await ledger.resolve(record)
        if record.is_open and record.expires_at <= now:
            record = await ledger.expire(record, now)
        if record.status is Status.EXPIRED:
            raise ConfirmationExpired(record.id, record.expires_at)
        return record

    async def apply_message(
        self, text: str, *, actor: str | Actor | None = None, channel: str = "api"
    ) -> PendingConfirmation:
        """Apply a decision message (``EXECUTE:<token>``, …) and return the record.

        Raises:
            InvalidDecisionMessage: the text is not a decision message.
            …and whatever ``decide`` or ``mark_shown`` raise.
        """
        message = parse_decision_message(text)
        if isinstance(message, Shown):
            return await self.mark_shown(message.token, actor=actor, channel=channel)
        if isinstance(message, Execute):
            return await self.decide(message.token, "approve", actor=actor, channel=channel)
        if isinstance(message, Skip):
            return await self.decide(message.token, "skip", actor=actor, channel=channel)
        assert isinstance(message, Choose)
        return await self.decide(message.token, message.option, actor=actor, channel=channel)

    # -- executing ----------------------------------------------------------------

    async def decide_and_begin(
        self,
        token: Ref,
        decision: str,
        *,
        actor: str | Actor | None = None,
        channel: str = "api",
    ) -> Execution:
        """Decide and, when the decision approves, claim the run — in one write.

        For a caller that runs the approved action right away, as a flow does when
        the user's "yes" arrives in the chat: the decision and ``begin_execution``
        become one durable transition (two history entries, two events) instead of
        two. A skip is recorded as ``decide`` records it, with ``should_run=False``.

        Raises:
            Whatever ``decide`` raises.
        """
        who = actor if isinstance(actor, Actor) else Actor(actor, channel)
        return await self._executions.decide_and_begin(token, decision, who)

    async def begin_execution(self, token: Ref) -> Execution:
        """Claim the right to run the approved action (``approved`` → ``executing``).

        Exactly one caller ever gets ``should_run=True``; everyone else, including a
        caller retrying after a crash, gets the recorded state instead.

        Raises:
            UnknownConfirmation: malformed or unknown token.
            ConfirmationNotApproved: it is still waiting for a decision.
            AlreadyDecided: it was skipped.
            ConfirmationExpired / ConfirmationClosed: it was never approved.
        """
        return await self._executions.begin(token)

    async def record_result(
        self,
        token: Ref,
        result: Mapping[str, Any] | None = None,
        *,
        error: BaseException | str | None = None,
    ) -> PendingConfirmation:
        """Store the action's outcome (``executing`` → ``executed`` or ``failed``).

        The first outcome recorded wins; a repeated call returns it unchanged.

        Raises:
            UnknownConfirmation: malformed or unknown token.
            ConfirmationNotApproved: execution was never begun.
        """
        return await self._executions.record_result(token, result, error)

    # -- runs whose outcome was not recorded ----------------------------------------

    async def settle(self, token: Ref) -> PendingConfirmation:
        """The confirmation, ``interrupted`` if its run can no longer record an outcome.

        A run is ``executing`` while its runner may still record what happened.
        When that runner is dead (its process was killed) or no longer runs it
        (its task ended without an outcome), nobody ever will: the record moves
        to ``interrupted`` — the action may or may not have happened. Any other
        record is returned as it is.

        Raises:
            UnknownConfirmation: malformed or unknown token.
        """
        return await self._executions.settle(token)

    async def recover(self) -> builtins.list[PendingConfirmation]:
        """Settle every ``executing`` run whose runner is gone (at start-up).

        Returns:
            The confirmations found interrupted.
        """
        return await self._executions.recover()

    async def retry_execution(self, token: Ref) -> Execution:
        """Hand out the run of an interrupted action once more (``interrupted`` → ``executing``).

        For a caller that knows running it again is safe: the action is
        idempotent, or a check at its provider found that it did not happen.
        Exactly one caller gets ``should_run=True``.

        Raises:
            UnknownConfirmation: malformed or unknown token.
            ConfirmationNotApproved: it is not a run that began.
        """
        return await self._executions.retry(token)

    async def resolve(
        self,
        token: Ref,
        result: Mapping[str, Any] | None = None,
        *,
        error: str | None = None,
        actor: str | Actor | None = None,
        channel: str = "api",
    ) -> PendingConfirmation:
        """Record what an interrupted run really did (``interrupted`` → ``executed``/``failed``).

        For whoever found out: a reconcile check at the action's provider, or an
        operator. A record that already has an outcome is returned unchanged.

        Raises:
            UnknownConfirmation: malformed or unknown token.
            ConfirmationNotApproved: it is not a run that began.
        """
        who = actor if isinstance(actor, Actor) else Actor(actor, channel)
        return await self._executions.resolve(token, result, error, who)

    # -- closing without a decision -------------------------------------------------

    async def cancel(self, token: Ref, *, actor: str | Actor | None = None) -> PendingConfirmation:
        """Withdraw an open confirmation because its flow was cancelled.

        Returns the record; one that is no longer open is returned unchanged.
        """
        return await self._closing.withdraw(token, CANCEL, actor)

    async def supersede(
        self, token: Ref, *, actor: str | Actor | None = None
    ) -> PendingConfirmation:
        """Withdraw an open confirmation that a newer one replaces.

        Returns the record; one that is no longer open is returned unchanged.
        """
        return await self._closing.withdraw(token, SUPERSEDE, actor)

    async def cancel_conversation(
        self, conversation_id: str, *, actor: str | Actor | None = None
    ) -> int:
        """Cancel every open confirmation of a conversation. Returns how many."""
        return await self._closing.cancel_conversation(conversation_id, actor)

    # -- expiry and retention -------------------------------------------------------

    async def cleanup_expired(self) -> int:
        """Record every open confirmation past its time as ``expired``. Returns how many.

        Works in batches of ``sweep_batch``, each its own transaction, so deciders
        are never locked out for long by a large sweep.
        """
        return await self._closing.cleanup_expired()

    async def purge(self) -> int:
        """Delete closed confirmations older than the retention period. Returns how many."""
        return await self._closing.purge()

    # -- waiting --------------------------------------------------------------------

    async def wait(self, token: Ref, timeout: float | None = None) -> PendingConfirmation:
        """Wait until the confirmation is decided, expires or is withdrawn.

        Decisions made in this process wake the waiter at once; decisions made by
        other processes are seen by re-reading the store every ``poll_interval``.
        Expiry is recorded when its time comes, even if no sweeper runs.

        Returns:
            The record once it is no longer open (check its ``status``).

        Raises:
            TimeoutError: ``timeout`` seconds passed first; it stays pending.
            UnknownConfirmation: malformed or unknown token.
        """
        return await wait_until_closed(self, self._ledger, token, timeout)

    # -- observers ------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer(event)`` after every committed transition.

        Observers run after the store committed, outside any lock, in the task
        that made the transition; an async observer is awaited there. An observer
        that raises is logged and does not affect the transition.

        Returns:
            A function that unsubscribes.
        """
        return self._ledger.observers.subscribe(observer)

    async def relay(
        self,
        confirmation_id: str,
        from_status: str | None,
        to_status: str,
        actor: Actor | None = None,
    ) -> ConfirmationEvent | None:
        """Tell waiters and observers of a transition another process committed.

        For a shared store: the process that heard of it (a PostgreSQL notice)
        calls this; ``wait`` then wakes at once, and observers receive the event
        (with ``event.remote`` true).

        Returns:
            The event relayed; ``None`` when the record no longer exists.
        """
        return await relay(self._ledger, confirmation_id, from_status, to_status, actor)


def _runners_folder_of(store: ConfirmationStore) -> Path | None:
    # A file other processes may share: a runner they cannot see would have its
    # runs in progress taken for interrupted ones by them.
    if isinstance(store, SqliteConfirmationStore) and store.path != ":memory:":
        return runners_folder(store.path)
    return None
