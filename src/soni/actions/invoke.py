"""Calling a handler: arguments from slots, worker threads, timeouts, results."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import inspect
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel

from soni.actions.context import ActionContext
from soni.actions.errors import ActionArgumentError, ActionError, ActionFailed, ActionTimeout
from soni.actions.spec import ActionSpec

__all__ = (
    "build_arguments",
    "call_check",
    "call_handler",
    "default_executor",
    "normalize_result",
    "time_left",
)

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "soni_action_deadline", default=None
)


def time_left() -> float | None:
    """Seconds the running handler has left before its timeout; ``None`` without one.

    For a handler that passes a timeout on (an HTTP call, a remote worker's
    deadline): ``httpx.get(url, timeout=time_left() or 30)``. Read in the handler
    itself (its thread, for a sync one); elsewhere it is ``None``.
    """
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def default_executor() -> ThreadPoolExecutor:
    """The process-wide pool that sync handlers run in.

    Handlers usually block on I/O (an HTTP call, a database), so the pool is wider
    than the event loop's default executor, which LangGraph also uses; a burst of
    slow handlers must not starve graph nodes. ``SONI_ACTION_WORKERS`` sets its size.
    """
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                workers = int(os.environ.get("SONI_ACTION_WORKERS", "64"))
                _executor = ThreadPoolExecutor(
                    max_workers=max(1, workers), thread_name_prefix="soni-action"
                )
    return _executor


def build_arguments(
    spec: ActionSpec, slots: Mapping[str, Any], ctx: ActionContext
) -> dict[str, Any]:
    """The keyword arguments for one call of ``spec.handler``.

    A slot whose value is ``None`` counts as unfilled: a parameter with a default
    keeps its default, a parameter without one is reported missing.

    Raises:
        ActionArgumentError: required slots have no value; all of them are named.
    """
    kwargs: dict[str, Any] = {}
    if spec.mode == "slots":
        # A copy: the handler may not change the conversation's state behind its back.
        kwargs["slots"] = dict(slots)
    elif spec.mode == "params":
        missing: list[str] = []
        for name in spec.params:
            value = slots.get(name)
            if value is not None:
                kwargs[name] = value
            elif name in spec.required:
                missing.append(name)
        if missing:
            raise ActionArgumentError(spec.name, missing)
    if spec.ctx_param is not None:
        kwargs[spec.ctx_param] = ctx
    return kwargs


def normalize_result(value: Any) -> dict[str, Any]:
    """A handler's return value as the dict that feeds ``map_outputs``."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, BaseModel):
        return value.model_dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return {"result": value}


class _StopIterationRaised(Exception):
    """Carries a handler's StopIteration out of its thread.

    asyncio cannot set StopIteration on a future (it would end the coroutine that
    awaits it), so a bare one would leave the caller waiting forever.
    """

    def __init__(self, original: StopIteration) -> None:
        super().__init__(repr(original))
        self.original = original


def _call_sync(handler: Any, kwargs: dict[str, Any]) -> Any:
    try:
        return handler(**kwargs)
    except StopIteration as exc:
        raise _StopIterationRaised(exc) from exc


def _start(spec: ActionSpec, kwargs: dict[str, Any], executor: Executor) -> Any:
    """Hand a sync handler to the pool; the pool's own errors are raised here."""
    loop = asyncio.get_running_loop()
    # Like asyncio.to_thread, carry the caller's context variables into the thread.
    context = contextvars.copy_context()
    call = functools.partial(context.run, _call_sync, spec.handler, kwargs)
    return loop.run_in_executor(executor, call)


async def _finish(spec: ActionSpec, kwargs: dict[str, Any], started: Any) -> Any:
    if spec.is_async:
        return await spec.handler(**kwargs)
    result = await started
    if inspect.isawaitable(result):
        # A plain function that returned a coroutine (a wrapper, a partial of one).
        result = await result
    return result


async def call_handler(
    spec: ActionSpec,
    slots: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Run one handler and return its normalised result.

    Raises:
        ActionArgumentError: required slots have no value (the handler is not called).
        ActionTimeout: the handler took longer than ``timeout`` seconds.
        ActionFailed: the handler raised; the exception is chained as ``__cause__``.
    """
    result: dict[str, Any] = await _call(spec, slots, ctx, timeout, executor, normalize_result)
    return result


async def call_check(
    spec: ActionSpec,
    slots: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None = None,
    executor: Executor | None = None,
) -> dict[str, Any] | None:
    """Run a reconcile check: ``None`` stays ``None`` (it did not happen), else as a result.

    Raises:
        What ``call_handler`` raises.
    """
    found: dict[str, Any] | None = await _call(spec, slots, ctx, timeout, executor, _found)
    return found


def _found(value: Any) -> dict[str, Any] | None:
    return None if value is None else normalize_result(value)


async def _call(
    spec: ActionSpec,
    slots: Mapping[str, Any],
    ctx: ActionContext,
    timeout: float | None,
    executor: Executor | None,
    shape: Callable[[Any], Any],
) -> Any:
    """Call the handler; ``shape`` makes its result (inside, so its errors are the handler's)."""
    kwargs = build_arguments(spec, slots, ctx)
    # Set before the handler starts: a sync one runs in a copy of this context.
    token = _deadline.set(None if timeout is None else time.monotonic() + timeout)
    try:
        # Outside the try: a broken pool is soni's problem, not the handler's failure.
        started = None if spec.is_async else _start(spec, kwargs, executor or default_executor())
        return await _awaited(spec, kwargs, started, timeout, shape)
    finally:
        _deadline.reset(token)


async def _awaited(
    spec: ActionSpec,
    kwargs: dict[str, Any],
    started: Any,
    timeout: float | None,
    shape: Callable[[Any], Any],
) -> Any:
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return shape(await _finish(spec, kwargs, started))
    except TimeoutError as exc:
        # A handler's own TimeoutError, raised before the deadline, is a plain failure.
        if timeout is not None and deadline.expired():
            raise ActionTimeout(spec.name, timeout) from None
        raise ActionFailed(spec.name, exc) from exc
    except _StopIterationRaised as exc:
        raise ActionFailed(spec.name, exc.original) from exc.original
    except (Exception, SystemExit) as exc:
        if spec.scope == "remote" and isinstance(exc, ActionError):
            raise  # a worker's answer, already said in the action's terms
        # SystemExit too: a handler calling sys.exit() must not stop the server.
        raise ActionFailed(spec.name, exc) from exc
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # our caller is being cancelled: let it happen
        # The handler raised CancelledError itself (e.g. a cancelled inner call):
        # a failure of the handler, not a cancellation of the conversation.
        raise ActionFailed(spec.name, exc) from exc
