"""The contract between the ConfirmationRegistry and where confirmations are kept.

Every state change is one ``transition`` call: a compare-and-set on the status —
from the statuses the change's transition starts from (``soni.confirmations.lifecycle``)
— that also appends the audit entry, in one atomic step. That is all a backend must
get right for "exactly one decision wins" to hold, whether the callers are tasks,
threads or processes — so a PostgreSQL store is one more file implementing this
protocol (``UPDATE … WHERE status = ANY(…) RETURNING *``), not a change to callers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from soni.confirmations.lifecycle import Transition
from soni.confirmations.records import Actor, Expired, HistoryEntry, PendingConfirmation, Status

__all__ = ("Change", "ConfirmationStore")


@dataclass(frozen=True, slots=True)
class Change:
    """What one transition writes.

    Attributes:
        transition: Which one (``lifecycle``): the statuses it may start from, and
            the new status.
        at: When (also becomes ``updated_at``).
        actor: Who; recorded in the history.
        decided: Record ``actor``/``at`` as the decision (``decided_by``/``decided_at``).
        chosen: The approved option's name.
        result: The action's result (``executed``).
        error: The action's error (``failed``).
        runner: The runner claiming the run (``executing``).
        then: A further change written in the same atomic step, after this one
            (approving and claiming the run in one write); each has its own
            history entry. Its transition starts from the status this one leads to.
    """

    transition: Transition
    at: datetime
    actor: Actor
    decided: bool = False
    chosen: str | None = None
    result: Mapping[str, Any] | None = None
    error: str | None = None
    runner: str | None = None
    then: Change | None = None

    def __post_init__(self) -> None:
        if self.then is not None and self.status not in self.then.transition.sources:
            raise ValueError(f"{self.then.transition} cannot follow {self.transition}")

    @property
    def status(self) -> Status:
        """The new status."""
        return self.transition.target

    @property
    def expected(self) -> frozenset[Status]:
        """The statuses the record may have for the change to apply."""
        return self.transition.sources

    def chain(self) -> tuple[Change, ...]:
        """This change and the ones that follow it, in order."""
        return (self,) if self.then is None else (self, *self.then.chain())


@runtime_checkable
class ConfirmationStore(Protocol):
    """Durable storage of pending confirmations and their history."""

    async def insert(self, record: PendingConfirmation) -> bool:
        """Add a new record and its creation entry in the history.

        Returns ``False`` and adds nothing when ``record.key`` is set and an open
        (pending or shown) record already has that key.
        """
        ...

    async def get(self, confirmation_id: str) -> PendingConfirmation | None:
        """The record with this id."""
        ...

    async def find_by_token_hash(self, token_hash: str) -> PendingConfirmation | None:
        """The record whose token hashes to ``token_hash``."""
        ...

    async def find_open_by_key(self, key: str) -> PendingConfirmation | None:
        """The open record registered with ``key``, if any (there is at most one)."""
        ...

    async def transition(
        self,
        confirmation_id: str,
        change: Change,
        *,
        unexpired: bool = False,
        expired: bool = False,
        claimed_by: str | None = None,
    ) -> tuple[PendingConfirmation, Status] | None:
        """Compare-and-set: apply ``change`` only if the status is one its transition
        starts from (``change.expected``).

        With ``unexpired``, also only if ``expires_at > change.at``; with
        ``expired``, only if ``expires_at <= change.at``; with ``claimed_by``, only
        if the record's ``runner`` is that one (``""`` stands for none recorded).
        The history entry is appended in the same atomic step.

        Returns:
            The updated record and the status it had before, or ``None`` when the
            condition did not hold (or there is no such record) and nothing was
            written.
        """
        ...

    async def expire_due(
        self, now: datetime, actor: Actor, limit: int | None = None
    ) -> list[Expired]:
        """Move open records with ``expires_at <= now`` to ``expired``, with history.

        With ``limit``, at most that many, those that expired first.

        Returns:
            What was expired, each with the status it had before.
        """
        ...

    async def purge(self, before: datetime) -> int:
        """Delete terminal records last changed before ``before``, with their history."""
        ...

    async def query(
        self,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        statuses: Collection[Status] | None = None,
        limit: int | None = None,
        conversation_prefix: str | None = None,
        newest_first: bool = False,
        changed_first: bool = False,
    ) -> list[PendingConfirmation]:
        """Records matching every given filter, oldest first (``newest_first``: the
        other way). ``conversation_prefix`` keeps the conversations whose id starts so
        (one user's, when ids are qualified by user); ``changed_first`` orders by the
        last transition, latest first (an inbox's history)."""
        ...

    async def history(self, confirmation_id: str) -> list[HistoryEntry]:
        """The record's transitions, oldest first."""
        ...

    async def close(self) -> None:
        """Release connections and threads. Safe to call twice."""
        ...
