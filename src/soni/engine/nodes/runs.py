"""Running an action at most once, and telling the truth when its outcome was lost.

Every run is claimed before the handler is called — by a confirmation (an approved
action) or by the journal (an unguarded one) — and the claim names its ``Runner``.
A claim whose runner died, or no longer runs it, before recording what happened is
*interrupted*: the action may or may not have had its effect. Then, before saying
anything, the engine asks the action's reconcile check (if it has one) whether the
call happened; runs it again if the check says it did not, or if the action is
declared idempotent; and otherwise reports the outcome as unknown — never as a
failure, which would invite the user to try again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from soni.actions import ActionContext
from soni.confirmations import Actor, Execution, PendingConfirmation, Status
from soni.engine.core import Engine
from soni.engine.journal import JournalEntry
from soni.engine.turn import this_turn
from soni.errors import ActionError

__all__ = ("Outcome", "run_approved", "run_journaled", "unknown_message")

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


def unknown_message(outcome: Outcome, what: str) -> str:
    """What the user is told when a run's outcome cannot be known (yet)."""
    if outcome.kind == "running":
        return f"I can't tell yet whether I managed to {what}: it is still running."
    return (
        f"I was interrupted while trying to {what}, so I can't tell whether it went "
        "through. I won't try again by myself: please check before asking again."
    )


async def _shielded(coro: Coroutine[Any, Any, T]) -> T:
    """Finish ``coro`` even if the caller is being cancelled (a record that must land)."""
    task = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


async def _call(
    engine: Engine,
    name: str,
    arguments: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None,
    key: str,
) -> Outcome:
    """Call the handler of a run this runner claimed."""
    with engine.confirmations.runner.running(key):
        try:
            result = await engine.actions.run(name, arguments, ctx, timeout=timeout)
        except ActionError as exc:
            return Outcome("failed", error=str(exc))
    return Outcome("done", result=result)


# -- approved actions: the confirmation records the run ---------------------------


async def run_approved(
    engine: Engine,
    name: str,
    arguments: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None,
    record: PendingConfirmation,
    run: Execution | None,
) -> Outcome:
    """Run the approved action of ``record`` (claiming it unless ``run`` is the claim)."""
    confirmations = engine.confirmations
    run = run or await confirmations.begin_execution(record)
    current = run.confirmation
    if not run.should_run:
        if current.status is Status.EXECUTING:
            current = this_turn().remember(await confirmations.settle(current))
        if current.status is Status.EXECUTING:
            return Outcome("running")
        if current.status is Status.INTERRUPTED:
            return await _recover_approved(engine, name, arguments, ctx, timeout, current)
        return _recorded(current)
    return await _run_claimed_confirmation(engine, name, arguments, ctx, timeout, current)


async def _run_claimed_confirmation(
    engine: Engine,
    name: str,
    arguments: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None,
    record: PendingConfirmation,
) -> Outcome:
    confirmations = engine.confirmations
    try:
        outcome = await _call(engine, name, arguments, ctx, timeout, record.id)
    except BaseException:
        # Cancelled, or a bug escaped: nobody will record what the handler did.
        await _shielded(confirmations.settle(record))
        raise
    recorded = await confirmations.record_result(
        record, outcome.result, error=outcome.error if outcome.kind == "failed" else None
    )
    this_turn().remember(recorded)
    return outcome


def _recorded(record: PendingConfirmation) -> Outcome:
    if record.status is Status.EXECUTED:
        return Outcome("done", result=record.result or {})
    if record.status is Status.FAILED:
        return Outcome("failed", error=record.error or "it failed")
    return Outcome("unknown")


async def _recover_approved(
    engine: Engine,
    name: str,
    arguments: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None,
    record: PendingConfirmation,
) -> Outcome:
    confirmations = engine.confirmations

    async def found(result: Mapping[str, Any]) -> Outcome:
        resolved = await confirmations.resolve(record, result, actor=RECONCILE)
        return _recorded(this_turn().remember(resolved))

    async def again() -> Outcome:
        retry = await confirmations.retry_execution(record)
        if not retry.should_run:
            # Another caller got the run (or an outcome landed): go by what it recorded.
            current = retry.confirmation
            return Outcome("running") if current.status is Status.EXECUTING else _recorded(current)
        return await _run_claimed_confirmation(
            engine, name, arguments, ctx, timeout, retry.confirmation
        )

    async def unknown() -> None:
        return None  # the record says ``interrupted`` already

    return await _recover(engine, name, arguments, ctx, timeout, found, again, unknown)


# -- unguarded actions: the journal records the run --------------------------------


async def run_journaled(
    engine: Engine,
    name: str,
    arguments: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None,
    key: str,
) -> Outcome:
    """Run an action no confirmation guards, at most once per journal ``key``."""
    journal = engine.journal
    runner = engine.confirmations.runner
    claimed = await journal.claim(key, runner.id)
    if claimed is None:
        return await _run_claimed_entry(
            engine, name, arguments, ctx, timeout, key, JournalEntry("running", runner=runner.id)
        )
    if claimed.status == "done":
        return Outcome("done", result=claimed.result or {})
    if claimed.status == "failed":
        return Outcome("failed", error=claimed.error or "it failed")
    if claimed.status == "running" and runner.in_flight(claimed.runner, key):
        return Outcome("running")
    seen = claimed

    async def found(result: Mapping[str, Any]) -> Outcome:
        await journal.finish(key, result=result)
        return Outcome("done", result=result)

    async def again() -> Outcome:
        if not await journal.reclaim(key, seen, runner.id):
            return Outcome("running")  # another caller took the run over first
        mine = JournalEntry("running", runner=runner.id)
        return await _run_claimed_entry(engine, name, arguments, ctx, timeout, key, mine)

    async def unknown() -> None:
        if seen.status == "running":
            logger.warning("the run %s of %s was interrupted; its outcome is unknown", key, name)
            await journal.mark_unknown(key, seen)

    return await _recover(engine, name, arguments, ctx, timeout, found, again, unknown)


async def _run_claimed_entry(
    engine: Engine,
    name: str,
    arguments: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None,
    key: str,
    entry: JournalEntry,
) -> Outcome:
    journal = engine.journal
    try:
        outcome = await _call(engine, name, arguments, ctx, timeout, key)
    except BaseException:
        await _shielded(journal.mark_unknown(key, entry))
        raise
    if outcome.kind == "failed":
        await journal.finish(key, error=outcome.error)
    else:
        await journal.finish(key, result=outcome.result)
    return outcome


# -- what to do with an interrupted run --------------------------------------------


async def _recover(
    engine: Engine,
    name: str,
    arguments: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None,
    found: Callable[[Mapping[str, Any]], Awaitable[Outcome]],
    again: Callable[[], Awaitable[Outcome]],
    unknown: Callable[[], Awaitable[None]],
) -> Outcome:
    """Ask the reconcile check, run it again where that is safe, or give up honestly."""
    spec = engine.actions.get_spec(name)
    rerun = spec is not None and spec.idempotent
    if spec is not None and spec.reconcile is not None:
        try:
            result = await engine.actions.reconcile(name, arguments, ctx, timeout=timeout)
        except ActionError as exc:
            logger.warning("the reconcile check of %s could not tell: %s", name, exc)
        else:
            if result is not None:
                logger.info("the reconcile check of %s found the call: recorded", name)
                return await found(result)
            logger.info("the reconcile check of %s found no call: running it", name)
            rerun = True
    if rerun:
        return await again()
    await unknown()
    return Outcome("unknown")
