"""The ConfirmationRegistry: pending confirmations from registration to execution.

Every state change goes through the store's compare-and-set ``transition``, so when
decisions race (a chat reply, a link, a WebSocket client, another process) exactly
one is recorded and the others learn what it was. Tokens are random capabilities
returned once; the store only sees their SHA-256.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import logging
import math
import threading
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from soni.confirmations.decisions import ActionOffer, interpret, offered_calls, settled
from soni.confirmations.events import ConfirmationEvent, Observer, Observers, Waiters
from soni.confirmations.protocol import Choose, Execute, Shown, Skip, parse_decision_message
from soni.confirmations.records import (
    OPEN,
    SYSTEM,
    Actor,
    HistoryEntry,
    PendingConfirmation,
    Status,
    canonical_json,
)
from soni.confirmations.stores.base import Change, ConfirmationStore
from soni.confirmations.stores.memory import MemoryConfirmationStore
from soni.confirmations.tokens import (
    hash_token,
    is_well_formed,
    new_confirmation_id,
    new_token,
)
from soni.errors import (
    ConfirmationError,
    ConfirmationExpired,
    ConfirmationNotApproved,
    UnknownConfirmation,
)

__all__ = ("ActionOffer", "ConfirmationEvent", "ConfirmationRegistry", "Execution")

T = TypeVar("T")

logger = logging.getLogger("soni.confirmations")

Clock = Callable[[], datetime]
Ref = str | PendingConfirmation

_REGISTER_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Execution:
    """The answer of ``begin_execution``.

    Attributes:
        confirmation: The record after the call.
        should_run: ``True`` for exactly one caller: the one that moved the
            confirmation from ``approved`` to ``executing`` and must now run the
            action and ``record_result``. ``False`` means it already ran or is
            running: use ``confirmation.result`` / ``confirmation.error`` (both
            ``None`` while it is still ``executing`` — the outcome of a call
            interrupted by a crash is unknown, and it is not run again).
    """

    confirmation: PendingConfirmation
    should_run: bool


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _json_safe(result: Mapping[str, Any]) -> dict[str, Any]:
    # A result is kept for audit and handed back after a crash: store what JSON can
    # say, and the text of anything it cannot (objects, NaN and infinities).
    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    try:
        safe: dict[str, Any] = clean(json.loads(json.dumps(dict(result), default=str)))
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. a circular reference
        return {"unrecordable_result": f"{type(exc).__name__}: {exc}"}
    return safe


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
    ) -> None:
        self.store: ConfirmationStore = store if store is not None else MemoryConfirmationStore()
        self.clock: Clock = clock or _utcnow
        self.default_ttl = _seconds(default_ttl)
        self.retention = _seconds(retention)
        if self.default_ttl <= 0:
            raise ValueError(f"default_ttl must be positive, got {self.default_ttl}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        if sweep_batch <= 0:
            raise ValueError(f"sweep_batch must be positive, got {sweep_batch}")
        self.poll_interval = poll_interval
        self.sweep_batch = sweep_batch
        self._lock = threading.Lock()
        # Tokens of the open confirmations this registry issued, so an idempotent
        # re-registration can hand the same token back. Never persisted.
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._waiters = Waiters()
        self._observers = Observers()

    async def __aenter__(self) -> ConfirmationRegistry:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the store."""
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
                again returns it with the same token; registering different
                actions (a corrected value) supersedes it with a new one.
            ttl: Seconds (or a timedelta) until it expires.
            kind: ``single`` or ``choice``; by default from the number of actions.

        Returns:
            The record and its token. The token is not stored anywhere: give it to
            the user, it is the only way to decide.

        Raises:
            ValueError: no actions, options with the same name, arguments that are
                not JSON, a ttl that is not positive.
        """
        calls, kind = offered_calls(actions, kind)
        names = [c.name for c in calls]
        seconds = self.default_ttl if ttl is None else _seconds(ttl)
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
            token = new_token()
            record = PendingConfirmation(
                id=new_confirmation_id(),
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
            # Known before it is visible, so a concurrent re-registration of the
            # same key in this process finds the token and reuses the record.
            with self._lock:
                self._tokens[record.id] = (token, record.expires_at)
            if await _uncancellable(self._insert(record)):
                logger.debug(
                    "confirmation %s registered for %s: %s", record.id, conversation_id, names
                )
                return record, token
            look_up = True
        raise ConfirmationError(
            f"could not register a confirmation under key {key!r}: it kept being replaced"
        )

    async def _insert(self, record: PendingConfirmation) -> bool:
        """Insert and announce; forget the token if the record did not make it.

        One unit, so a caller cancelled mid-insert cannot leave a stored record
        whose token is forgotten, nor a token whose record was never stored.
        """
        try:
            inserted = await self.store.insert(record)
        except BaseException:
            self._forget(record.id)
            raise
        if not inserted:
            self._forget(record.id)
            return False
        event = ConfirmationEvent.of(record, None, SYSTEM, record.created_at)
        await self._observers.notify(event)
        return True

    async def _reuse(
        self, existing: PendingConfirmation, offered: str, kind: str, now: datetime
    ) -> tuple[PendingConfirmation, str] | None:
        """Hand back an open confirmation with the same key, or close it for a new one."""
        if existing.expires_at <= now:
            await self._close(existing, Status.EXPIRED, SYSTEM, now, expired=True)
            return None
        token = self.known_token(existing.id)
        if token is not None and existing.actions_json() == offered and existing.kind == kind:
            return existing, token
        # Different actions (a corrected value), or a token this process never knew
        # (issued before a restart): the old one can no longer be honoured safely.
        await self._close(existing, Status.SUPERSEDED, SYSTEM, now)
        return None

    # -- reading ------------------------------------------------------------------

    async def get(self, token: str) -> PendingConfirmation:
        """The confirmation a token stands for.

        Raises:
            UnknownConfirmation: malformed or unknown token.
        """
        if not is_well_formed(token):
            raise UnknownConfirmation()
        return self._found(await self.store.find_by_token_hash(hash_token(token)))

    def known_token(self, confirmation_id: str) -> str | None:
        """The token of an open confirmation this registry issued, if it still knows it.

        Tokens live only in this process's memory: after a restart this is ``None``
        and re-registering the confirmation's key issues a fresh token.
        """
        with self._lock:
            known = self._tokens.get(confirmation_id)
        return None if known is None else known[0]

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
    ) -> builtins.list[PendingConfirmation]:
        """Confirmations matching every given filter, oldest first.

        ``status`` is one status or several (``"pending"``, ``{"pending", "shown"}``).
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        statuses: set[Status] | None = None
        if status is not None:
            statuses = {Status(status)} if isinstance(status, str) else {Status(s) for s in status}
        return await self.store.query(
            conversation_id=conversation_id, user_id=user_id, statuses=statuses, limit=limit
        )

    async def history(self, confirmation_id: str) -> builtins.list[HistoryEntry]:
        """Every transition of the confirmation, oldest first (empty if unknown)."""
        return await self.store.history(confirmation_id)

    async def _resolve(self, ref: Ref) -> PendingConfirmation:
        if isinstance(ref, PendingConfirmation):
            return self._found(await self.store.get(ref.id))
        return await self.get(ref)

    def _found(self, record: PendingConfirmation | None) -> PendingConfirmation:
        if record is None:
            raise UnknownConfirmation()
        if not record.is_open:
            # Closed, perhaps by another process: its token is of no more use here.
            self._forget(record.id)
        return record

    async def _held(self, ref: Ref, hopeful: Collection[Status]) -> PendingConfirmation:
        """The caller's own copy when it shows a status the next step starts from.

        Saves a read on the common path: the compare-and-set that follows checks
        the status in the store anyway, and every path that finds it changed
        re-reads the record.
        """
        if isinstance(ref, PendingConfirmation) and ref.status in hopeful:
            return ref
        return await self._resolve(ref)

    def _forget(self, confirmation_id: str) -> None:
        with self._lock:
            self._tokens.pop(confirmation_id, None)

    def _forget_expired_tokens(self, now: datetime) -> None:
        with self._lock:
            stale = [cid for cid, (_, expires_at) in self._tokens.items() if expires_at <= now]
            for cid in stale:
                del self._tokens[cid]

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
        record = await self._held(token, OPEN)
        target, chosen = interpret(record, decision)
        if record.is_open:
            now = self.clock()
            if record.expires_at > now:
                change = Change(target, now, who, decided=True, chosen=chosen)
                updated = await self._transition(record.id, OPEN, change, unexpired=True)
                if updated is not None:
                    logger.info(
                        "confirmation %s %s by %s", updated.id, updated.decision or target, who
                    )
                    return updated
                # Lost a race: another decision, or the expiry, got there first.
                record = await self._resolve(record)
            if record.is_open:
                record = await self._expire(record, now)
        return settled(record, target, chosen)

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
        record = await self._resolve(token)
        now = self.clock()
        if record.status is Status.PENDING and record.expires_at > now:
            change = Change(Status.SHOWN, now, who)
            updated = await self._transition(record.id, {Status.PENDING}, change, unexpired=True)
            if updated is not None:
                return updated
            record = await self._resolve(record)
        if record.is_open and record.expires_at <= now:
            record = await self._expire(record, now)
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
        record = await self._held(token, OPEN)
        target, chosen = interpret(record, decision)
        now = self.clock()
        if target is Status.APPROVED and record.is_open and record.expires_at > now:
            claim = Change(Status.EXECUTING, now, SYSTEM)
            change = Change(target, now, who, decided=True, chosen=chosen, then=claim)
            updated = await self._transition(record.id, OPEN, change, unexpired=True)
            if updated is not None:
                logger.info("confirmation %s %s by %s", updated.id, updated.decision, who)
                return Execution(updated, should_run=True)
        # Skipped, expired, or decided elsewhere meanwhile: the two steps, each of
        # which settles a race its own way.
        decided = await self.decide(record, decision, actor=who)
        if decided.status is Status.APPROVED:
            return await self.begin_execution(decided)
        return Execution(decided, should_run=False)

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
        record = await self._held(token, {Status.APPROVED})
        if record.status is Status.APPROVED:
            change = Change(Status.EXECUTING, self.clock(), SYSTEM)
            updated = await self._transition(record.id, {Status.APPROVED}, change)
            if updated is not None:
                return Execution(updated, should_run=True)
            record = await self._resolve(record)
        if record.status in (Status.EXECUTING, Status.EXECUTED, Status.FAILED):
            return Execution(record, should_run=False)
        if record.is_open:
            now = self.clock()
            if record.expires_at <= now:
                record = await self._expire(record, now)
            if record.is_open:
                raise ConfirmationNotApproved(record.id, record.status.value)
        settled(record, Status.APPROVED, None)  # raises for every other status
        raise AssertionError(f"unreachable status {record.status}")  # pragma: no cover

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
        record = await self._held(token, {Status.EXECUTING})
        if record.status is Status.EXECUTING:
            if error is not None:
                text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
                change = Change(Status.FAILED, self.clock(), SYSTEM, error=text)
            else:
                change = Change(
                    Status.EXECUTED, self.clock(), SYSTEM, result=_json_safe(result or {})
                )
            updated = await self._transition(record.id, {Status.EXECUTING}, change)
            if updated is not None:
                return updated
            record = await self._resolve(record)
        if record.status in (Status.EXECUTED, Status.FAILED):
            return record
        raise ConfirmationNotApproved(record.id, record.status.value)

    # -- closing without a decision -------------------------------------------------

    async def cancel(self, token: Ref, *, actor: str | Actor | None = None) -> PendingConfirmation:
        """Withdraw an open confirmation because its flow was cancelled.

        Returns the record; one that is no longer open is returned unchanged.
        """
        return await self._withdraw(token, Status.CANCELLED, actor)

    async def supersede(
        self, token: Ref, *, actor: str | Actor | None = None
    ) -> PendingConfirmation:
        """Withdraw an open confirmation that a newer one replaces.

        Returns the record; one that is no longer open is returned unchanged.
        """
        return await self._withdraw(token, Status.SUPERSEDED, actor)

    async def cancel_conversation(
        self, conversation_id: str, *, actor: str | Actor | None = None
    ) -> int:
        """Cancel every open confirmation of a conversation. Returns how many."""
        count = 0
        for record in await self.store.query(conversation_id=conversation_id, statuses=OPEN):
            if (await self._withdraw(record, Status.CANCELLED, actor)).status is Status.CANCELLED:
                count += 1
        return count

    async def _withdraw(
        self, token: Ref, status: Status, actor: str | Actor | None
    ) -> PendingConfirmation:
        who = actor if isinstance(actor, Actor) else (SYSTEM if actor is None else Actor(actor))
        record = await self._resolve(token)
        if record.is_open:
            now = self.clock()
            if record.expires_at <= now:
                # Its time ran out before the withdrawal: that is an expiry.
                return await self._expire(record, now)
            closed = await self._close(record, status, who, now)
            if closed is not None:
                return closed
            record = await self._resolve(record)
        return record

    async def _close(
        self,
        record: PendingConfirmation,
        status: Status,
        actor: Actor,
        now: datetime,
        *,
        expired: bool = False,
    ) -> PendingConfirmation | None:
        change = Change(status, now, actor)
        updated = await self._transition(record.id, OPEN, change, expired=expired)
        if updated is not None:
            logger.info("confirmation %s %s", updated.id, status.value)
        return updated

    async def _expire(self, record: PendingConfirmation, now: datetime) -> PendingConfirmation:
        """Record the expiry of an open record past its time; return it as it now is."""
        closed = await self._close(record, Status.EXPIRED, SYSTEM, now, expired=True)
        return closed if closed is not None else await self._resolve(record)

    # -- expiry and retention -------------------------------------------------------

    async def cleanup_expired(self) -> int:
        """Record every open confirmation past its time as ``expired``. Returns how many.

        Works in batches of ``sweep_batch``, each its own transaction, so deciders
        are never locked out for long by a large sweep.
        """
        now = self.clock()
        total = 0
        while True:
            count = await _uncancellable(self._expire_batch(now))
            total += count
            if count < self.sweep_batch:
                break
        # Tokens of confirmations closed elsewhere (another process) age out here.
        self._forget_expired_tokens(now)
        if total:
            logger.info("%d confirmation(s) expired", total)
        return total

    async def _expire_batch(self, now: datetime) -> int:
        expired = await self.store.expire_due(now, SYSTEM, limit=self.sweep_batch)
        with self._lock:
            for gone in expired:
                self._tokens.pop(gone.id, None)
        self._waiters.wake_all([gone.id for gone in expired])
        if self._observers:
            await self._observers.notify_all(
                ConfirmationEvent(
                    gone.id,
                    gone.conversation_id,
                    gone.user_id,
                    gone.from_status,
                    Status.EXPIRED,
                    SYSTEM,
                    now,
                )
                for gone in expired
            )
        return len(expired)

    async def purge(self) -> int:
        """Delete closed confirmations older than the retention period. Returns how many."""
        count = await self.store.purge(self.clock() - timedelta(seconds=self.retention))
        if count:
            logger.info("purged %d closed confirmation(s) past retention", count)
        return count

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
        record = await self._resolve(token)
        if not record.is_open:
            return record
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        # Listen before looking again, so a decision landing in between is not missed.
        with self._waiters.listen(record.id) as decided:
            while True:
                current = await self.store.get(record.id)
                if current is None:
                    raise UnknownConfirmation()
                if not current.is_open:
                    return current
                now = self.clock()
                until_expiry = (current.expires_at - now).total_seconds()
                if until_expiry <= 0:
                    return await self._expire(current, now)
                pause = min(self.poll_interval, until_expiry)
                if deadline is not None:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        raise TimeoutError(f"no decision on confirmation {record.id} yet")
                    pause = min(pause, remaining)
                with contextlib.suppress(TimeoutError):
                    closed = await asyncio.wait_for(asyncio.shield(decided), pause)
                    if closed is not None:
                        return closed
                    # Closed by a bulk expiry, which did not read the record back.
                    return await self._resolve(record)

    # -- observers ------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer(event)`` after every committed transition.

        Observers run after the store committed, outside any lock, in the task
        that made the transition; an async observer is awaited there. An observer
        that raises is logged and does not affect the transition.

        Returns:
            A function that unsubscribes.
        """
        return self._observers.subscribe(observer)

    async def _transition(
        self,
        confirmation_id: str,
        expected: Collection[Status],
        change: Change,
        *,
        unexpired: bool = False,
        expired: bool = False,
    ) -> PendingConfirmation | None:
        """A compare-and-set and everything that must follow it, as one unit.

        The caller may be cancelled while the store commits; the change then still
        lands (SQLite finishes it on its thread), so waking waiters, telling
        observers and forgetting the token must happen regardless — or an
        approved-to-executing move would strand the action, unrun, in ``executing``.
        """

        async def commit() -> PendingConfirmation | None:
            done = await self.store.transition(
                confirmation_id, expected, change, unexpired=unexpired, expired=expired
            )
            if done is None:
                return None
            updated, previous = done
            await self._after(updated, previous, change)
            return updated

        return await _uncancellable(commit())

    async def _after(
        self, record: PendingConfirmation, from_status: Status | None, change: Change
    ) -> None:
        if not record.is_open:
            with self._lock:
                self._tokens.pop(record.id, None)
            self._waiters.wake(record.id, record)
        # One event per change: a chained approve-and-begin is two transitions.
        steps = change.chain()
        for step in steps:
            passed = record if step is steps[-1] else replace(record, status=step.status)
            await self._observers.notify(
                ConfirmationEvent.of(passed, from_status, step.actor, step.at)
            )
            from_status = step.status


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("confirmation update failed after its caller left", exc_info=task.exception())


async def _uncancellable(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end even if the awaiting task is cancelled meanwhile."""
    task = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # Our caller was cancelled; the task goes on. Log its failure, if any,
        # since nobody is left to receive it.
        task.add_done_callback(_log_failure)
        raise
