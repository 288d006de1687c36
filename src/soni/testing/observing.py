"""What a test puts around a real bot: a registry that records runs, stubs, a clock.

None of these replace the engine. ``RecordingRegistry`` is an ``ActionRegistry``
that notes each call the engine makes through it (confirmed or not) and then lets
it run as usual; a stub is an ordinary local handler; ``TestClock`` is the
confirmation registry's clock (``ConfirmationRegistry.clock``), moved forward so
that a pending confirmation really expires.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from soni.actions import ActionContext, ActionRegistry
from soni.actions.spec import Handler
from soni.confirmations._support import utcnow
from soni.errors import ActionError

__all__ = ("ActionRun", "RecordingRegistry", "TestClock", "make_stub")


@dataclass(frozen=True, slots=True)
class ActionRun:
    """One call the engine made: the action, and its error if it did not return."""

    name: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        return self.name if self.ok else f"{self.name} (failed: {self.error})"


class RecordingRegistry(ActionRegistry):
    """An ``ActionRegistry`` that records every ``run``: what ran, and whether it returned."""

    __slots__ = ("_runs",)

    def __init__(self) -> None:
        super().__init__()
        # Appended to by ``run``, on the bot's event loop only.
        self._runs: list[ActionRun] = []

    @property
    def runs(self) -> tuple[ActionRun, ...]:
        return tuple(self._runs)

    async def run(
        self,
        name: str,
        slots: Mapping[str, Any] | None = None,
        ctx: ActionContext | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        try:
            result = await super().run(name, slots, ctx, timeout)
        except ActionError as exc:
            self._runs.append(ActionRun(name, str(exc)))
            raise
        self._runs.append(ActionRun(name))
        return result


def make_stub(name: str, result: Mapping[str, Any] | None, like: Handler | None) -> Handler:
    """A handler for ``name`` that returns a copy of ``result``.

    It takes the parameters of ``like`` (the real handler), so the engine calls it
    as it would call the real one — the arguments a confirmation records, the
    missing-slot errors; without a real handler it takes the ``slots`` dict.
    """
    value = dict(result or {})

    async def stub(**_: Any) -> dict[str, Any]:
        return copy.deepcopy(value)

    stub.__name__ = stub.__qualname__ = f"stub_{name}"
    if like is not None:
        stub.__signature__ = inspect.signature(like)  # type: ignore[attr-defined]
    else:
        slots = inspect.Parameter("slots", inspect.Parameter.KEYWORD_ONLY)
        stub.__signature__ = inspect.Signature([slots])  # type: ignore[attr-defined]
    return stub


class TestClock:
    """Wall-clock time plus an offset that only grows; the confirmations' clock."""

    __test__ = False  # a pytest hint: not a test class

    def __init__(self) -> None:
        self._offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self._offset

    def move_past(self, moment: datetime) -> None:
        """Move forward so that ``moment`` has passed (by a second)."""
        gap = moment - self() + timedelta(seconds=1)
        if gap > timedelta():
            self._offset += gap
