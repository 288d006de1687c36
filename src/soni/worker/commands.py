"""``run_action``: one command the server sends a worker, run and answered once.

The answer is a ``response`` in the command's session (docs/workers.md#the-protocol):
``ok: true`` with the result, or ``ok: false`` with a problem whose ``started``
tells the server whether the handler may have run — only a command that never
started may be sent to another worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from soni.actions import ActionContext, ActionRegistry, ActionSession
from soni.actions.errors import ActionArgumentError, ActionFailed, ActionNotFound, ActionTimeout
from soni.remote import RemoteSession, problem
from soni.wire import RunAction
from soni.worker.recent import Outcome, RecentKeys

__all__ = ("CommandRunner", "RunAction", "parse_run_action")

logger = logging.getLogger("soni.worker")


class InvalidCommand(ValueError):
    """A ``run_action`` whose arguments do not follow the protocol (a server bug)."""


def parse_run_action(args: Mapping[str, Any]) -> RunAction:
    """Read ``run_action``'s arguments with the model the server writes them with.

    Raises:
        InvalidCommand: naming the argument that is wrong.
    """
    try:
        return RunAction.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "args"
        raise InvalidCommand(f"{where!r}: {first['msg']}") from None


def _context(command: RunAction, session: ActionSession) -> ActionContext:
    ctx = command.context
    built = ActionContext(
        conversation_id=ctx.conversation_id,
        user_id=ctx.user_id,
        flow=ctx.flow,
        step=ctx.step,
        confirmation_token=ctx.confirmation_token,
        extras=ctx.extras,
        session=session,
    )
    if ctx.idempotency_key:  # else the fresh key ActionContext makes
        built = dataclasses.replace(built, idempotency_key=ctx.idempotency_key)
    return built


def _failure(
    slug: str, title: str, status: int, detail: str, *, started: bool, **extra: Any
) -> Outcome:
    error = problem(slug, title, status, detail, started=started, **extra)
    return Outcome({"type": "response", "ok": False, "error": error}, started=started)


def _stopping(action: str) -> Outcome:
    return _failure(
        "worker-stopping",
        "Worker stopping",
        503,
        f"the worker is stopping and takes no more commands ({action!r} was not started)",
        started=False,
    )


def _timeout(command: RunAction, *, started: bool) -> Outcome:
    when = "before it could start" if not started else "before it finished"
    return _failure(
        "action-timeout",
        "Action timed out",
        504,
        f"action {command.action!r}: its deadline of {command.deadline:g} s passed {when}",
        started=started,
    )


def _not_found(registry: ActionRegistry, action: str) -> Outcome:
    error = ActionNotFound(action, registry.suggest(action))
    return _failure("action-not-found", "Unknown action", 404, str(error), started=False)


class CommandRunner:
    """Serves ``run_action`` for one worker: its registry, its concurrency, its keys.

    Loop-confined (it lives on the worker's loop). ``in_flight`` counts the
    commands received and not yet answered, those waiting for a slot included.
    """

    def __init__(
        self,
        registry: ActionRegistry,
        *,
        concurrency: int,
        recent: RecentKeys,
        stopping: Callable[[], bool],
    ) -> None:
        self.registry = registry
        self.recent = recent
        self._stopping = stopping
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float | None) -> bool:
        """Wait until no command runs; after ``timeout``, cancel those left (``False``)."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
            return True
        except TimeoutError:
            left = list(self._tasks)
            logger.warning("%d command(s) still running at the stop timeout: cancelled", len(left))
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
            return False

    async def __call__(self, session: RemoteSession, args: dict[str, Any]) -> None:
        """Serve one ``run_action`` in ``session`` (an ``InstructionHandler``)."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            self._idle.clear()
        try:
            outcome, replayed = await self._serve(session, args)
            payload = outcome.payload
            if payload.get("ok") is True:
                await session.respond(payload.get("result"), replayed=replayed)
            else:
                await session.fail(payload["error"], **({"replayed": True} if replayed else {}))
        finally:
            if task is not None:
                self._tasks.discard(task)
                if not self._tasks:
                    self._idle.set()

    async def _serve(self, session: RemoteSession, args: dict[str, Any]) -> tuple[Outcome, bool]:
        try:
            command = parse_run_action(args)
        except InvalidCommand as exc:
            return _failure(
                "invalid-request", "Invalid request", 422, str(exc), started=False
            ), False
        key = command.context.idempotency_key if not command.reconcile else None
        if self._stopping() and (key is None or key not in self.recent):
            # Only a key never seen is "not started": one seen gets its recorded answer,
            # else the server would send it to another worker, which would run it again.
            return _stopping(command.action), False
        if self.registry.get_spec(command.action) is None:
            return _not_found(self.registry, command.action), False
        expires = None if command.deadline is None else _now() + command.deadline
        if key is None:
            return await self._run(command, session, expires), False
        future, mine = self.recent.claim(key)
        if not mine:
            logger.debug("command for key %s: answered with the outcome of its first run", key)
            try:
                async with asyncio.timeout_at(expires):
                    return await asyncio.shield(future), True
            except TimeoutError:
                return _timeout(command, started=True), False
        try:
            outcome = await self._run(command, session, expires)
        except BaseException:
            # Cancelled (the worker stops): the handler started, its outcome is lost.
            self.recent.settle(
                key,
                _failure(
                    "action-failed",
                    "Action failed",
                    500,
                    f"action {command.action!r} was cancelled: the worker stopped while it ran",
                    started=True,
                ),
            )
            raise
        self.recent.settle(key, outcome)
        return outcome, False

    async def _run(
        self, command: RunAction, session: RemoteSession, expires: float | None
    ) -> Outcome:
        try:
            async with asyncio.timeout_at(expires):
                await self._slots.acquire()
        except TimeoutError:
            return _timeout(command, started=False)
        try:
            remaining = None if expires is None else expires - _now()
            if remaining is not None and remaining <= 0:
                return _timeout(command, started=False)
            return await self._call(command, session, remaining)
        finally:
            self._slots.release()

    async def _call(
        self, command: RunAction, session: RemoteSession, timeout: float | None
    ) -> Outcome:
        name = command.action
        ctx = _context(command, session)
        try:
            if command.reconcile:
                result: dict[str, Any] | None = await self.registry.reconcile(
                    name, command.slots, ctx, timeout=timeout
                )
            else:
                result = await self.registry.run(name, command.slots, ctx, timeout=timeout)
        except ActionNotFound:  # unregistered since the check above
            return _not_found(self.registry, name)
        except ActionArgumentError as exc:
            return _failure(
                "action-arguments",
                "Missing action arguments",
                422,
                str(exc),
                # The handler was not called: nothing happened, another worker may try.
                started=False,
                missing=list(exc.missing),
            )
        except ActionTimeout:
            return _timeout(command, started=True)
        except ActionFailed as exc:
            cause = exc.cause
            detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
            return _failure("action-failed", "Action failed", 500, detail, started=True)
        except LookupError as exc:  # reconcile: the action has no reconcile check here
            return _failure("action-failed", "Action failed", 500, str(exc), started=False)
        try:
            json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return _failure(
                "invalid-result",
                "Invalid result",
                500,
                f"the result of {name!r} is not JSON: {exc}",
                started=True,
            )
        return Outcome({"type": "response", "ok": True, "result": result})


def _now() -> float:
    return asyncio.get_running_loop().time()
