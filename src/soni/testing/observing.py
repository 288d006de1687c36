"""What a test puts around a real bot: a recorder of its action runs, stubs, a clock.

None of these replace the engine. ``RunRecorder`` follows the bot's event stream
and notes each action run it tells of (confirmed or not); a stub is an ordinary
local handler; ``TestClock`` is the confirmation registry's clock
(``ConfirmationRegistry.clock``), moved forward so that a pending confirmation
really expires.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from soni.actions.spec import Handler
from soni.engine import ActionRan, BotEvent

if TYPE_CHECKING:
    from soni.engine import Bot

__all__ = ("ActionRun", "RunRecorder", "TestClock", "make_stub")


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


class RunRecorder:
    """The action runs a bot tells of (``bot.events``' ``ActionRan``): what ran, and
    whether it returned — guarded by a confirmation or not."""

    __slots__ = ("_runs", "_stop")

    def __init__(self, bot: Bot) -> None:
        # Appended to on the bot's event loop only, inside the turn that ran them.
        self._runs: list[ActionRun] = []
        self._stop = bot.events.subscribe(self._heard)

    @property
    def runs(self) -> tuple[ActionRun, ...]:
        return tuple(self._runs)

    def _heard(self, event: BotEvent) -> None:
        if not isinstance(event, ActionRan) or event.remote:
            return
        if event.outcome == "done":
            self._runs.append(ActionRun(event.action))
        elif event.outcome == "failed":
            self._runs.append(ActionRun(event.action, event.error or "it failed"))
        else:
            self._runs.append(ActionRun(event.action, "its outcome is unknown"))

    def close(self) -> None:
        """Stop recording."""
        self._stop()


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

    def __init__(self, start: datetime | None = None) -> None:
        # From ``start`` on (a pinned day's noon), else from now.
        self._offset = timedelta() if start is None else start - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def move_past(self, moment: datetime) -> None:
        """Move forward so that ``moment`` has passed (by a second)."""
        gap = moment - self() + timedelta(seconds=1)
        if gap > timedelta():
            self._offset += gap
