"""Running an approved action: exactly one caller claims the run and records its outcome."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from soni.confirmations._ledger import Ledger
from soni.confirmations._support import Ref, json_safe
from soni.confirmations.decisions import interpret, settled
from soni.confirmations.records import OPEN, SYSTEM, Actor, PendingConfirmation, Status
from soni.confirmations.stores.base import Change
from soni.errors import ConfirmationNotApproved

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
            confirmation from ``approved`` to ``executing`` and must now run the
            action and ``record_result``. ``False`` means it already ran or is
            running: use ``confirmation.result`` / ``confirmation.error`` (both
            ``None`` while it is still ``executing`` — the outcome of a call
            interrupted by a crash is unknown, and it is not run again).
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
        record = await ledger.held(token, OPEN)
        target, chosen = interpret(record, decision)
        now = self._registry.clock()
        if target is Status.APPROVED and record.is_open and record.expires_at > now:
            claim = Change(Status.EXECUTING, now, SYSTEM)
            change = Change(target, now, who, decided=True, chosen=chosen, then=claim)
            updated = await ledger.transition(record.id, OPEN, change, unexpired=True)
            if updated is not None:
                logger.info("confirmation %s %s by %s", updated.id, updated.decision, who)
                return Execution(updated, should_run=True)
        # Skipped, expired, or decided elsewhere meanwhile: the two steps, each of
        # which settles a race its own way.
        decided = await self._registry.decide(record, decision, actor=who)
        if decided.status is Status.APPROVED:
            return await self._registry.begin_execution(decided)
        return Execution(decided, should_run=False)

    async def begin(self, token: Ref) -> Execution:
        ledger = self._ledger
        record = await ledger.held(token, {Status.APPROVED})
        if record.status is Status.APPROVED:
            change = Change(Status.EXECUTING, self._registry.clock(), SYSTEM)
            updated = await ledger.transition(record.id, {Status.APPROVED}, change)
            if updated is not None:
                return Execution(updated, should_run=True)
            record = await ledger.resolve(record)
        if record.status in (Status.EXECUTING, Status.EXECUTED, Status.FAILED):
            return Execution(record, should_run=False)
        if record.is_open:
            now = self._registry.clock()
            if record.expires_at <= now:
                record = await ledger.expire(record, now)
            if record.is_open:
                raise ConfirmationNotApproved(record.id, record.status.value)
        settled(record, Status.APPROVED, None)  # raises for every other status
        raise AssertionError(f"unreachable status {record.status}")  # pragma: no cover

    async def record_result(
        self, token: Ref, result: Mapping[str, Any] | None, error: BaseException | str | None
    ) -> PendingConfirmation:
        ledger = self._ledger
        record = await ledger.held(token, {Status.EXECUTING})
        if record.status is Status.EXECUTING:
            clock = self._registry.clock
            if error is not None:
                text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
                change = Change(Status.FAILED, clock(), SYSTEM, error=text)
            else:
                change = Change(Status.EXECUTED, clock(), SYSTEM, result=json_safe(result or {}))
            updated = await ledger.transition(record.id, {Status.EXECUTING}, change)
            if updated is not None:
                return updated
            record = await ledger.resolve(record)
        if record.status in (Status.EXECUTED, Status.FAILED):
            return record
        raise ConfirmationNotApproved(record.id, record.status.value)
