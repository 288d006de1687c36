"""Running an approved action: exactly one caller claims the run and records its outcome."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from soni.confirmations._ledger import Ledger
from soni.confirmations._support import Ref, json_safe
from soni.confirmations.decisions import interpret, settled
from soni.confirmations.errors import ConfirmationNotApproved
from soni.confirmations.lifecycle import (
    APPROVE,
    BEGIN,
    INTERRUPT,
    RECORD_EXECUTED,
    RECORD_FAILED,
    RESOLVE_EXECUTED,
    RESOLVE_FAILED,
    RETRY,
    Transition,
)
from soni.confirmations.records import SYSTEM, Actor, PendingConfirmation, Status
from soni.confirmations.stores.base import Change

if TYPE_CHECKING:
    from soni.confirmations.registry import ConfirmationRegistry

__all__ = ("Execution", "Executions")

logger = logging.getLogger("soni.confirmations")


@dataclass(frozen=True, slots=True)
class Execution:
    """The answer of ``begin_execution``.

    Attributes:
        confirmation: The record after the call.
        should_run: ``True`` for exactly one caller: the one that moved the
            confirmation to ``executing`` and must now run the action and
            ``record_result``. ``False`` means it already ran, is running, or was
            interrupted: use ``confirmation.result`` / ``confirmation.error`` once
            it is ``executed`` / ``failed``. While it is ``executing``, its runner
            (``confirmation.runner``) may still record the outcome — or may have
            died, which ``settle`` tells. ``interrupted`` means nobody knows
            whether the action happened; it is not run again unless
            ``retry_execution`` hands the run out once more.
    """

    confirmation: PendingConfirmation
    should_run: bool


class Executions:
    """The registry's ``begin_execution``, ``record_result`` and ``decide_and_begin``."""

    def __init__(self, registry: ConfirmationRegistry, ledger: Ledger) -> None:
        self._registry = registry
        self._ledger = ledger

    async def decide_and_begin(self, token: Ref, decision: str, who: Actor) -> Execution:
        ledger = self._ledger
        record = await ledger.held(token, APPROVE)
        decided_by, chosen = interpret(record, decision)
        now = self._registry.clock()
        if decided_by is APPROVE and record.is_open and record.expires_at > now:
            claim = Change(BEGIN, now, SYSTEM, runner=self._registry.runner.id)
            change = Change(APPROVE, now, who, decided=True, chosen=chosen, then=claim)
            updated = await ledger.transition(record.id, change, unexpired=True)
            if updated is not None:
                logger.info("confirmation %s %s by %s", updated.id, updated.decision, who)
                self._registry.runner.claimed(updated.id)
                return Execution(updated, should_run=True)
        # Skipped, expired, or decided elsewhere meanwhile: the two steps, each of
        # which settles a race its own way.
        decided = await self._registry.decide(record, decision, actor=who)
        if decided.status is Status.APPROVED:
            return await self._registry.begin_execution(decided)
        return Execution(decided, should_run=False)

    async def begin(self, token: Ref) -> Execution:
        ledger = self._ledger
        record = await ledger.held(token, BEGIN)
        if record.status is Status.APPROVED:
            updated = await ledger.transition(record.id, self._claim(BEGIN))
            if updated is not None:
                self._registry.runner.claimed(updated.id)
                return Execution(updated, should_run=True)
            record = await ledger.resolve(record)
        if record.status in _RAN:
            return Execution(record, should_run=False)
        if record.is_open:
            now = self._registry.clock()
            if record.expires_at <= now:
                record = await ledger.expire(record, now)
            if record.is_open:
                raise ConfirmationNotApproved(record.id, record.status.value)
        settled(record, APPROVE, None)  # raises for every other status
        raise AssertionError(f"unreachable status {record.status}")  # pragma: no cover

    def _claim(self, claim: Transition) -> Change:
        """A change that hands the run to this registry's runner: ``BEGIN`` or ``RETRY``."""
        registry = self._registry
        return Change(claim, registry.clock(), SYSTEM, runner=registry.runner.id)

    async def settle(self, token: Ref) -> PendingConfirmation:
        ledger = self._ledger
        record = await ledger.held(token, INTERRUPT)
        if record.status is not Status.EXECUTING:
            return record
        if await self._registry.runner.in_flight(record.runner, record.id):
            return record
        change = Change(INTERRUPT, self._registry.clock(), SYSTEM)
        # Only if the same claim still stands: another process may have found it
        # interrupted and claimed the run again meanwhile.
        updated = await ledger.transition(record.id, change, claimed_by=record.runner or "")
        if updated is not None:
            self._registry.runner.released(record.id)
            # INFO: whoever acts on it (a bot) says so to the user and in its own log.
            logger.info(
                "confirmation %s: the run of %s was interrupted; its outcome is unknown",
                updated.id,
                updated.chosen,
            )
            return updated
        return await ledger.resolve(record)

    async def retry(self, token: Ref) -> Execution:
        ledger = self._ledger
        record = await ledger.held(token, RETRY)
        if record.status is Status.INTERRUPTED:
            updated = await ledger.transition(record.id, self._claim(RETRY))
            if updated is not None:
                logger.info("confirmation %s: running %s again", updated.id, updated.chosen)
                self._registry.runner.claimed(updated.id)
                return Execution(updated, should_run=True)
            record = await ledger.resolve(record)
        if record.status in _RAN:
            return Execution(record, should_run=False)
        raise ConfirmationNotApproved(record.id, record.status.value)

    async def resolve(
        self,
        token: Ref,
        result: Mapping[str, Any] | None,
        error: str | None,
        who: Actor,
    ) -> PendingConfirmation:
        ledger = self._ledger
        record = await ledger.held(token, RESOLVE_EXECUTED)
        if record.status is Status.INTERRUPTED:
            outcome = self._outcome(result, error, who, RESOLVE_EXECUTED, RESOLVE_FAILED)
            updated = await ledger.transition(record.id, outcome)
            if updated is not None:
                return updated
            record = await ledger.resolve(record)
        if record.status in (Status.EXECUTED, Status.FAILED):
            return record
        raise ConfirmationNotApproved(record.id, record.status.value)

    def _outcome(
        self,
        result: Mapping[str, Any] | None,
        error: BaseException | str | None,
        who: Actor,
        executed: Transition,
        failed: Transition,
    ) -> Change:
        """The change that records a run's outcome: ``failed`` with an error, else
        ``executed`` with the result."""
        now = self._registry.clock()
        if error is not None:
            text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
            return Change(failed, now, who, error=text)
        return Change(executed, now, who, result=json_safe(result or {}))

    async def recover(self) -> list[PendingConfirmation]:
        interrupted = []
        store = self._registry.store
        for record in await store.query(statuses={Status.EXECUTING}):
            settled_record = await self.settle(record)
            if settled_record.status is Status.INTERRUPTED:
                interrupted.append(settled_record)
        return interrupted

    async def record_result(
        self, token: Ref, result: Mapping[str, Any] | None, error: BaseException | str | None
    ) -> PendingConfirmation:
        ledger = self._ledger
        record = await ledger.held(token, RECORD_EXECUTED)
        if record.status is Status.EXECUTING:
            change = self._outcome(result, error, SYSTEM, RECORD_EXECUTED, RECORD_FAILED)
            updated = await ledger.transition(record.id, change)
            if updated is not None:
                self._registry.runner.released(record.id)
                return updated
            record = await ledger.resolve(record)
        if record.status in (Status.EXECUTED, Status.FAILED, Status.INTERRUPTED):
            # Interrupted meanwhile (declared dead by another process while this one
            # was stalled): what really happened is recorded, for the operator.
            if record.status is Status.INTERRUPTED:
                return await self.resolve(record, result, _text(error), SYSTEM)
            return record
        raise ConfirmationNotApproved(record.id, record.status.value)


_RAN = frozenset({Status.EXECUTING, Status.EXECUTED, Status.FAILED, Status.INTERRUPTED})
"""Statuses of a confirmation whose run was handed out already."""


def _text(error: BaseException | str | None) -> str | None:
    if error is None or isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"
