"""Functions the multi-process tests run in child processes.

They live in an importable module, not in a test file, because the "spawn" start
method imports the target function by name in a fresh interpreter.
"""

from __future__ import annotations

import asyncio
from typing import Any

from soni.confirmations import (
    Actor,
    AlreadyDecided,
    ConfirmationRegistry,
    SqliteConfirmationStore,
)


def decide_in_process(
    path: str, token: str, decision: str, worker: int, barrier: Any, results: Any
) -> None:
    """Open the database, wait for the others, decide, and report what happened.

    Puts ``(worker, decision, outcome)`` on ``results``; the outcome is
    ``"decided:<status>"`` when this worker's decision was recorded, ``"same"`` when
    another worker recorded the same decision first, ``"already:<status>"`` when a
    different decision was recorded, and ``"error:…"`` for anything else.
    """
    try:
        outcome = asyncio.run(_decide(path, token, decision, worker, barrier))
    except BaseException as exc:
        outcome = f"error:{type(exc).__name__}: {exc}"
    results.put((worker, decision, outcome))


async def _decide(path: str, token: str, decision: str, worker: int, barrier: Any) -> str:
    me = Actor(f"worker-{worker}", "cli")
    registry = ConfirmationRegistry(SqliteConfirmationStore(path))
    try:
        await registry.get(token)  # connect before the race, not during it
        barrier.wait(timeout=60)
        try:
            record = await registry.decide(token, decision, actor=me)
        except AlreadyDecided as exc:
            return f"already:{exc.status}"
        return f"decided:{record.status}" if record.decided_by == me else "same"
    finally:
        await registry.aclose()


def register_in_process(path: str, worker: int, barrier: Any, results: Any) -> None:
    """Wait for the others, then open a (new) database and register one confirmation.

    Puts ``(worker, token)`` on ``results``, or ``(worker, "error:…")``.
    """
    try:
        outcome = asyncio.run(_register(path, worker, barrier))
    except BaseException as exc:
        outcome = f"error:{type(exc).__name__}: {exc}"
    results.put((worker, outcome))


async def _register(path: str, worker: int, barrier: Any) -> str:
    barrier.wait(timeout=60)
    registry = ConfirmationRegistry(SqliteConfirmationStore(path))
    try:
        _, token = await registry.register(
            conversation_id=f"conv-{worker}",
            actions=[("transfer", {"worker": worker})],
            prompt="Send?",
            key=f"conv-{worker}:step-1",
        )
        return token
    finally:
        await registry.aclose()
