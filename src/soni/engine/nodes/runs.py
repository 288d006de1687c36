"""Running an action at most once, and telling the truth when its outcome was lost.

Every run is claimed before the handler is called — by a confirmation (an approved
action) or by the journal (an unguarded one) — and the claim names its ``Runner``.
A claim whose runner died, or no longer runs it, before recording what happened is
*interrupted*: the action may or may not have had its effect. Then, before saying
anything, the engine asks the action's reconcile check (if it has one) whether the
call happened; runs it again if the check says it did not, or if the action is
declared idempotent; and otherwise reports the outcome as unknown — never as a
failure, which would invite the user to try again.

A handler's run and the record of its outcome are one task of their own, which the
turn awaits but does not own: a turn cancelled meanwhile (its client gone, a
timeout around ``handle``) does not stop the handler — a synchronous one could not
be stopped anyway — and what it did is still recorded when it ends; the
conversation's next message finds it. ``Engine.runs`` holds these tasks, and
``Bot.aclose`` lets them finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from soni.actions import ActionContext
from soni.actions.errors import ActionError
from soni.confirmations import Actor, Execution, PendingConfirmation, Status
from soni.engine.core import Engine
from soni.engine.events import ActionOutcome, ActionRan
from soni.engine.turn import Turn
from soni.storage.journal import JournalEntry

__all__ = ("Call", "Outcome", "run_approved", "run_journaled")

logger = logging.getLogger("soni.engine")

T = TypeVar("T")

RECONCILE = Actor(None, "reconcile")
"""Who records an outcome that a reconcile check found."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a run.

    ``unknown``: it was interrupted and nothing could tell whether it happened.
    ``running``: another live process holds the claim and has not recorded the
    outcome yet. Neither is a failure.
    """

    kind: Literal["done", "failed", "unknown", "running"]
    result: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One call of an action: the handler, what it is called with, and its context."""

    engine: Engine
    name: str
    arguments: Mapping[str, Any]
    ctx: ActionContext
    timeout: float | None

    async def invoke(self, key: str) -> Outcome:
        """Call the handler of a run this process's runner claimed as ``key``."""
        with self.engine.confirmations.runner.running(key):
            try:
                result = await self.engine.actions.run(
                    self.name, self.arguments, self.ctx, timeout=self.timeout
                )
            except ActionError as exc:
                return Outcome("failed", error=str(exc))
        return Outcome("done", result=result)


async def _shielded(coro: Coroutine[Any, Any, T]) -> T:
    """Finish ``coro`` even if the caller is being cancelled (a record that must land)."""
    task = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


async def _detached(engine: Engine, key: str, coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` as the task of run ``key``, which outlives its caller's
    cancellation (see the module)."""
    task = asyncio.ensure_future(coro)
    engine.runs[key] = task
    task.add_done_callback(lambda _: engine.runs.pop(key, None))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_log_failure)  # nobody is left to receive it
        raise


async def _ended(engine: Engine, key: str) -> bool:
    """Wait for run ``key`` if it is under way in this process (a cut-off turn's).

    Returns whether there was one: its outcome is recorded now (or it was lost).
    """
    task = engine.runs.get(key)
    if task is None:
        return False
    # Shielded: this turn being cancelled must not cancel a run it does not own.
    await asyncio.wait([task])
    return True


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error(
            "an action run went on after its turn ended, and failed", exc_info=task.exception()
        )


class _Recovery(Protocol):
    """What an interrupted run's record keeper does with each verdict."""

    async def found(self, result: Mapping[str, Any]) -> Outcome:
        """The call happened: record its result."""
        ...

    async def again(self) -> Outcome:
        """Running it again is safe: claim it once more and run it."""
        ...

    async def unknown(self) -> None:
        """Nothing can tell: record that its outcome is unknown."""
        ...


async def _recover(call: Call, recovery: _Recovery) -> Outcome:
    """Ask the reconcile check, run it again where that is safe, or give up honestly."""
    spec = call.engine.actions.get_spec(call.name)
    rerun = spec is not None and spec.idempotent
    if spec is not None and spec.reconcile is not None:
        try:
            result = await call.engine.actions.reconcile(
                call.name, call.arguments, call.ctx, timeout=call.timeout
            )
        except ActionError as exc:
            logger.warning("the reconcile check of %s could not tell: %s", call.name, exc)
        else:
            if result is not None:
                logger.info("the reconcile check of %s found the call: recorded", call.name)
                return await recovery.found(result)
            logger.info("the reconcile check of %s found no call: running it", call.name)
            rerun = True
    if rerun:
        return await recovery.again()
    await recovery.unknown()
    return Outcome("unknown")


# -- approved actions: the confirmation records the run ---------------------------


async def run_approved(
    call: Call, record: PendingConfirmation, run: Execution | None, turn: Turn
) -> Outcome:
    """Run the approved action of ``record`` (claiming it unless ``run`` is the claim);
    ``turn`` remembers what is recorded of it."""
    confirmations = call.engine.confirmations
    run = run or await confirmations.begin_execution(record)
    if run.should_run:
        return await _run_confirmed(call, run.confirmation, turn)
    current = run.confirmation
    if current.status is Status.EXECUTING and await _ended(call.engine, current.id):
        # A turn cut off while the action ran left it running here: its outcome now.
        current = await confirmations.get_by_id(current.id) or current
    if current.status is Status.EXECUTING:
        current = turn.remember(await confirmations.settle(current))
    if current.status is Status.EXECUTING:
        return Outcome("running")
    if current.status is Status.INTERRUPTED:
        return await _recover(call, _ConfirmationRecovery(call, current, turn))
    return _recorded(current)


async def _run_confirmed(call: Call, claimed: PendingConfirmation, turn: Turn) -> Outcome:
    confirmations = call.engine.confirmations

    async def run_and_record() -> Outcome:
        try:
            outcome = await call.invoke(claimed.id)
        except BaseException:
            # The run itself was cancelled (the process is stopping), or a bug
            # escaped: nobody will record what the handler did.
            confirmations.runner.released(claimed.id)
            await _shielded(confirmations.settle(claimed))
            raise
        error = outcome.error if outcome.kind == "failed" else None
        recorded = await confirmations.record_result(claimed, outcome.result, error=error)
        turn.remember(recorded)
        return outcome

    return await _detached(call.engine, claimed.id, run_and_record())


def _recorded(record: PendingConfirmation) -> Outcome:
    if record.status is Status.EXECUTED:
        return Outcome("done", result=record.result or {})
    if record.status is Status.FAILED:
        return Outcome("failed", error=record.error or "it failed")
    if record.status is Status.EXECUTING:
        return Outcome("running")
    return Outcome("unknown")


@dataclass(frozen=True, slots=True)
class _ConfirmationRecovery:
    call: Call
    record: PendingConfirmation
    turn: Turn

    async def found(self, result: Mapping[str, Any]) -> Outcome:
        confirmations = self.call.engine.confirmations
        resolved = await confirmations.resolve(self.record, result, actor=RECONCILE)
        return _recorded(self.turn.remember(resolved))

    async def again(self) -> Outcome:
        retry = await self.call.engine.confirmations.retry_execution(self.record)
        if retry.should_run:
            return await _run_confirmed(self.call, retry.confirmation, self.turn)
        # Another caller got the run (or an outcome landed): go by what it recorded.
        return _recorded(retry.confirmation)

    async def unknown(self) -> None:
        return None  # the record says ``interrupted`` already


# -- unguarded actions: the journal records the run --------------------------------


async def run_journaled(call: Call, key: str) -> Outcome:
    """Run an action no confirmation guards, at most once per journal ``key``."""
    journal = call.engine.journal
    runner = call.engine.confirmations.runner
    claimed = await journal.claim(key, runner.id)
    if claimed is not None and claimed.status == "running" and await _ended(call.engine, key):
        # A turn cut off while the action ran left it running here: its outcome now.
        claimed = await journal.claim(key, runner.id)
    if claimed is None:
        return await _run_journaled_claim(call, key, JournalEntry("running", runner=runner.id))
    if claimed.status == "done":
        return Outcome("done", result=claimed.result or {})
    if claimed.status == "failed":
        return Outcome("failed", error=claimed.error or "it failed")
    if claimed.status == "running" and await runner.in_flight(claimed.runner, key):
        return Outcome("running")
    return await _recover(call, _JournalRecovery(call, key, claimed))


async def _run_journaled_claim(call: Call, key: str, claim: JournalEntry) -> Outcome:
    journal = call.engine.journal

    async def run_and_record() -> Outcome:
        try:
            outcome = await call.invoke(key)
        except BaseException:
            await _shielded(_unknown(call, key, claim))
            raise
        if outcome.kind == "failed":
            await journal.finish(key, error=outcome.error)
        else:
            await journal.finish(key, result=outcome.result)
        await _ran(call, "failed" if outcome.kind == "failed" else "done", outcome.error)
        return outcome

    return await _detached(call.engine, key, run_and_record())


@dataclass(frozen=True, slots=True)
class _JournalRecovery:
    call: Call
    key: str
    seen: JournalEntry

    async def found(self, result: Mapping[str, Any]) -> Outcome:
        await self.call.engine.journal.finish(self.key, result=result)
        await _ran(self.call, "done")
        return Outcome("done", result=result)

    async def again(self) -> Outcome:
        engine = self.call.engine
        runner = engine.confirmations.runner
        if not await engine.journal.reclaim(self.key, self.seen, runner.id):
            return Outcome("running")  # another caller took the run over first
        mine = JournalEntry("running", runner=runner.id)
        return await _run_journaled_claim(self.call, self.key, mine)

    async def unknown(self) -> None:
        if self.seen.status == "running":
            logger.warning(
                "the run %s of %s was interrupted; its outcome is unknown", self.key, self.call.name
            )
            await _unknown(self.call, self.key, self.seen)


async def _unknown(call: Call, key: str, seen: JournalEntry) -> None:
    """Record that the run ``key`` ended without an outcome, and tell whoever listens."""
    await call.engine.journal.mark_unknown(key, seen)
    await _ran(call, "unknown")


async def _ran(call: Call, outcome: ActionOutcome, error: str | None = None) -> None:
    """Tell the engine's listener (the bot's events) that an unguarded run ended."""
    told = call.engine.action_ran
    if told is not None:
        await told(ActionRan(call.ctx.conversation_id, call.name, outcome, error=error))
