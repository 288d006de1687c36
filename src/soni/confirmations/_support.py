"""Small helpers the registry's parts share: time, results as JSON, cancellation."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from soni.confirmations.records import PendingConfirmation

__all__ = ("Clock", "Ref", "json_safe", "to_seconds", "uncancellable", "utcnow")

T = TypeVar("T")

logger = logging.getLogger("soni.confirmations")

Clock = Callable[[], datetime]
Ref = str | PendingConfirmation
"""A token, or the record itself for in-process callers."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def json_safe(result: Mapping[str, Any]) -> dict[str, Any]:
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


async def uncancellable(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end even if the awaiting task is cancelled meanwhile."""
    task = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # Our caller was cancelled; the task goes on. Log its failure, if any,
        # since nobody is left to receive it.
        task.add_done_callback(_log_failure)
        raise


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("confirmation update failed after its caller left", exc_info=task.exception())
