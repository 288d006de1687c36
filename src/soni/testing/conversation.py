"""One conversation test's steps, played against a real ``Bot``.

A *turn* is what a ``user`` step or a decision (``approve``, ``skip``, ``choose``)
starts: ``bot.handle`` or ``bot.decide``. ``bot`` steps read the replies of the
latest turn in order; ``action_executed`` looks at the actions run in it. ``pending``,
``slot`` and ``flow`` read the conversation as it is now (its saved state and the
confirmation store).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from soni.confirmations import PendingConfirmation
from soni.confirmations.errors import ConfirmationError
from soni.confirmations.records import OPEN
from soni.engine import Bot, TurnResult
from soni.testing.matching import as_written, same_value, text_matches, wanted
from soni.testing.models import (
    ActionExecutedStep,
    ActionFailedStep,
    ActionNotExecutedStep,
    ApproveStep,
    BotStep,
    ChooseStep,
    ExpireStep,
    FlowStep,
    PendingExpectation,
    PendingStep,
    SkipStep,
    SlotStep,
    UserStep,
)
from soni.testing.observing import ActionRun, RunRecorder, TestClock
from soni.testing.results import Observed, PendingSeen

__all__ = ("USER_ID", "Conversation", "Mismatch")

USER_ID = "tester"
"""The user every test conversation is held with (and who decides)."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A step's expectation and what happened instead."""

    expected: str
    actual: str


class Conversation:
    """A fresh conversation with ``bot``, driven step by step."""

    def __init__(self, bot: Bot, runs: RunRecorder, clock: TestClock, conversation_id: str) -> None:
        self.bot = bot
        self.recorder = runs
        self.clock = clock
        self.id = conversation_id
        self._replies: tuple[str, ...] = ()
        self._checked = 0
        self._runs_from = 0
        self._turns = 0

    # -- turns ----------------------------------------------------------------------

    def _turn(self, result: TurnResult, runs_from: int) -> None:
        self._replies = tuple(result.texts)
        self._checked = 0
        self._runs_from = runs_from
        self._turns += 1

    @property
    def turn_actions(self) -> tuple[ActionRun, ...]:
        """The actions run in the latest turn."""
        return self.recorder.runs[self._runs_from :]

    async def preset(self, slots: Mapping[str, Any]) -> Mismatch | None:
        """Set ``slots`` with a ``/set`` message, as a user could, before the first step.

        The engine reads each value as its slot's type; a value it refuses fails
        the test. The replies of that turn are not for ``bot`` steps to check.
        """
        parts = [shlex.quote(f"{n}={json.dumps(v, ensure_ascii=False)}") for n, v in slots.items()]
        result = await self.bot.handle(self.id, "/set " + " ".join(parts), user_id=USER_ID)
        self._runs_from = len(self.recorder.runs)
        held = (await self.bot.state(self.id)).get("slots") or {}
        # A refused value may leave a default (or an earlier value) in place: when the
        # bot answered the /set (it says nothing to one it took), a slot that does
        # not hold the value asked for was refused. A value it took may read
        # differently (a choice's synonym), so that alone is not a refusal.
        answered = bool(result.replies)
        refused = [
            n
            for n, v in slots.items()
            if v is not None
            and (held.get(n) is None or (answered and not same_value(v, held.get(n))))
        ]
        if refused:
            return Mismatch(
                f"the preset slots to be set ({', '.join(refused)})",
                f"the bot said {result.texts!r}",
            )
        return None

    async def run(self, step: object) -> Mismatch | None:
        """Play one step; what went differently, or ``None``."""
        if isinstance(step, UserStep):
            runs_from = len(self.recorder.runs)
            self._turn(await self.bot.handle(self.id, step.user, user_id=USER_ID), runs_from)
            return None
        if isinstance(step, BotStep):
            return self._check_reply(step.bot)
        if isinstance(step, PendingStep):
            return await self._check_pending(step.pending)
        if isinstance(step, ApproveStep):
            return await self._decide("approve")
        if isinstance(step, SkipStep):
            return await self._decide("skip")
        if isinstance(step, ChooseStep):
            return await self._decide(step.choose, choose=True)
        if isinstance(step, ExpireStep):
            return await self._expire()
        if isinstance(step, ActionExecutedStep):
            return self._check_ran(step.action_executed)
        if isinstance(step, ActionNotExecutedStep):
            return self._check_not_ran(step.action_not_executed)
        if isinstance(step, ActionFailedStep):
            return self._check_ran(step.action_failed, failed=True)
        if isinstance(step, SlotStep):
            return await self._check_slots(step.slot)
        if isinstance(step, FlowStep):
            flow = await self.active_flow()
            if flow != step.flow:
                expected = f"the active flow {step.flow!r}" if step.flow else "no active flow"
                return Mismatch(expected, f"{flow!r}" if flow else "no active flow")
            return None
        raise TypeError(f"not a step: {step!r}")  # pragma: no cover - the models allow no other

    # -- checks ---------------------------------------------------------------------

    def _check_reply(self, expected: str) -> Mismatch | None:
        if self._turns == 0:
            return Mismatch(wanted(expected), "no turn yet: start with a user step")
        if self._checked >= len(self._replies):
            said = "nothing" if not self._replies else f"only {len(self._replies)} replies"
            return Mismatch(wanted(expected), f"no more replies in the latest turn ({said})")
        reply = self._replies[self._checked]
        self._checked += 1
        if not text_matches(expected, reply):
            return Mismatch(wanted(expected), repr(reply))
        return None

    async def _check_pending(self, expected: PendingExpectation | None) -> Mismatch | None:
        record = await self.open_confirmation()
        if expected is None:
            if record is None:
                return None
            return Mismatch("no pending confirmation", _describe(record))
        wish = _wish(expected)
        if record is None:
            return Mismatch(wish, "no confirmation is pending")
        ran = {call.name for call in record.actions}
        if expected.action is not None and expected.action not in {*record.options, *ran}:
            return Mismatch(wish, _describe(record))
        if expected.options is not None and list(record.options) != expected.options:
            return Mismatch(wish, _describe(record))
        if expected.prompt is not None and not text_matches(expected.prompt, record.prompt):
            return Mismatch(wish, _describe(record))
        return None

    def _check_ran(self, action: str, *, failed: bool = False) -> Mismatch | None:
        runs = self.turn_actions
        if any(run.name == action and run.ok is not failed for run in runs):
            return None
        outcome = "fail" if failed else "run"
        return Mismatch(f"{action} to {outcome} in the latest turn", _runs(runs))

    def _check_not_ran(self, action: str) -> Mismatch | None:
        runs = self.turn_actions
        if any(run.name == action for run in runs):
            return Mismatch(f"{action} not to run in the latest turn", _runs(runs))
        return None

    async def _check_slots(self, expected: Mapping[str, Any]) -> Mismatch | None:
        slots = (await self.bot.state(self.id)).get("slots") or {}
        wrong = {n: v for n, v in expected.items() if not same_value(v, slots.get(n))}
        if not wrong:
            return None
        actual = {n: as_written(slots.get(n)) for n in wrong}
        return Mismatch(_mapping(wrong), _mapping(actual))

    # -- decisions and time ---------------------------------------------------------

    async def _decide(self, decision: str, *, choose: bool = False) -> Mismatch | None:
        what = f"to choose {decision!r}" if choose else f"to {decision}"
        record = await self.open_confirmation()
        if record is None:
            return Mismatch(f"a pending confirmation {what}", "no confirmation is pending")
        if choose:
            named = record.option_named(decision)
            if named is None:
                return Mismatch(f"a pending confirmation offering {decision!r}", _describe(record))
            decision = named
        token = self.bot.confirmations.token_of(record)
        if token is None:
            return Mismatch(f"the token of the pending confirmation {what}", "no token is known")
        runs_from = len(self.recorder.runs)
        try:
            result = await self.bot.decide(token, decision, actor=USER_ID, channel="api")
        except ConfirmationError as exc:
            return Mismatch(f"the pending confirmation {what}", f"refused: {exc}")
        self._turn(result, runs_from)
        return None

    async def _expire(self) -> Mismatch | None:
        record = await self.open_confirmation()
        if record is None:
            return Mismatch("a pending confirmation to expire", "no confirmation is pending")
        registry = self.bot.confirmations
        self.clock.move_past(record.expires_at)
        # What the bot's sweeper does every few seconds, done now.
        await registry.cleanup_expired()
        # Nobody spoke: no replies to check, no actions ran.
        self._replies, self._checked = (), 0
        self._runs_from = len(self.recorder.runs)
        after = await registry.get_by_id(record.id)
        if after is None or after.is_open:
            return Mismatch("the confirmation to expire", "it is still open")  # pragma: no cover
        return None

    # -- reading the conversation ---------------------------------------------------

    async def open_confirmation(self) -> PendingConfirmation | None:
        """The confirmation the conversation waits for, else its newest open one."""
        state = await self.bot.state(self.id)
        waiting = state.get("waiting") or {}
        registry = self.bot.confirmations
        if waiting.get("kind") == "confirmation":
            record = await registry.get_by_id(waiting["confirmation"])
            if record is not None and record.is_open:
                return record
        records = await registry.list(conversation_id=self.id, status=OPEN)
        return records[-1] if records else None

    async def active_flow(self) -> str | None:
        stack = (await self.bot.state(self.id)).get("stack") or []
        return str(stack[-1]["flow"]) if stack else None

    async def observe(self) -> Observed:
        """The conversation now, for a failure report."""
        state = await self.bot.state(self.id)
        record = await self.open_confirmation()
        pending = None
        if record is not None:
            labels = tuple(call.label for call in record.actions)
            pending = PendingSeen(record.prompt, record.options, labels)
        stack = state.get("stack") or []
        slots = {n: as_written(v) for n, v in (state.get("slots") or {}).items() if v is not None}
        return Observed(
            replies=self._replies,
            checked=self._checked,
            pending=pending,
            slots=slots,
            flow=str(stack[-1]["flow"]) if stack else None,
            actions=tuple(str(run) for run in self.turn_actions),
        )


def _describe(record: PendingConfirmation) -> str:
    return f"a pending confirmation for {', '.join(record.options)}: {record.prompt!r}"


def _wish(expected: PendingExpectation) -> str:
    parts = []
    if expected.action is not None:
        parts.append(f"for {expected.action}")
    if expected.options is not None:
        parts.append(f"offering exactly {', '.join(expected.options)}")
    if expected.prompt is not None:
        parts.append(f"with {wanted(expected.prompt, 'prompt')}")
    return " ".join(["a pending confirmation", *parts])


def _runs(runs: tuple[ActionRun, ...]) -> str:
    if not runs:
        return "no action ran in the latest turn"
    return "ran: " + ", ".join(str(run) for run in runs)


def _mapping(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={json.dumps(v, ensure_ascii=False)}" for name, v in values.items())
