"""Measuring a bot's understanding against a labeled set of utterances.

The set's format is in :mod:`soni.testing.labeled` (and ``docs/nlu-evaluation.md``).

A case passes when the understanding gives as many commands, of the same kinds in
order, naming the same flows, slots and options (clarify candidates in any
order), with equal values: numbers as numbers (``2 == 2.0 == "2"``), dates as ISO
text, other text case-insensitively after stripping.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from soni.nlu.commands import Choose, Clarify, Command, CorrectSlot, SetSlot, StartFlow
from soni.nlu.protocol import ConversationContext
from soni.testing.labeled import (
    _BARE,
    KINDS,
    CaseContext,
    LabeledCase,
    LabeledSet,
    LabeledSetErrors,
    _contexts,
    load_labeled_set,
    parse_labeled_set,
)

if TYPE_CHECKING:
    from soni.engine import Bot

__all__ = (
    "CaseContext",
    "Evaluation",
    "Failure",
    "LabeledCase",
    "LabeledSet",
    "LabeledSetErrors",
    "Score",
    "evaluate",
    "load_labeled_set",
    "parse_labeled_set",
)


@dataclass(frozen=True, slots=True)
class Score:
    """How many cases of one kind the understanding got right."""

    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        """``correct / total``; 0.0 when there are no cases."""
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class Failure:
    """A case the understanding got wrong.

    Attributes:
        index: The case's position in the set.
        text: The utterance.
        context: The context the understanding was given.
        expected: The commands the set expects.
        got: The commands the understanding gave.
        error: The exception the understanding raised, if it did.
    """

    index: int
    text: str
    context: ConversationContext
    expected: tuple[Command, ...]
    got: tuple[Command, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of :func:`evaluate`.

    Attributes:
        overall: Every case.
        by_type: Cases grouped by the kind of their first expected command.
        failures: The cases got wrong, in set order.
        path: The labeled set evaluated.
    """

    overall: Score
    by_type: Mapping[str, Score]
    failures: tuple[Failure, ...]
    path: str = "<labeled set>"

    @property
    def accuracy(self) -> float:
        """The share of cases got right."""
        return self.overall.accuracy

    def report(self) -> str:
        """A table of accuracy per command type, then every failure."""
        rows = [*self.by_type.items(), ("overall", self.overall)]
        header = f"{'command':<14}{'correct':>9}{'total':>7}{'accuracy':>10}"
        lines = [f"NLU evaluation of {self.path}", "", header]
        for kind, score in rows:
            lines.append(f"{kind:<14}{score.correct:>9}{score.total:>7}{score.accuracy:>10.1%}")
        if self.failures:
            lines += ["", f"{len(self.failures)} failure(s):"]
        for failure in self.failures:
            lines.append(
                f"  cases[{failure.index}] {failure.text!r} ({_describe(failure.context)})"
            )
            lines.append(f"    expected: {_show(failure.expected)}")
            lines.append(f"    got:      {_show(failure.got)}")
            if failure.error:
                lines.append(f"    error:    {failure.error}")
        return "\n".join(lines)


# -- evaluating ---------------------------------------------------------------------


async def evaluate(bot: Bot, labeled_set: LabeledSet | str | os.PathLike[str]) -> Evaluation:
    """Run the bot's understanding on every case of a labeled set and score it.

    Each case gets the context the engine would give it: the active flow, the slot
    being asked for (with its type and choices), the slots so far, the pending
    confirmation's options and labels, every flow and slot of the bot, and the
    set's ``today``.

    Args:
        bot: A loaded bot; its ``engine.understanding`` is evaluated.
        labeled_set: A labeled set, or the path of one.

    Returns:
        Accuracy overall and per command type (the kind of each case's first
        expected command), and every failure.

    Raises:
        LabeledSetErrors: the set is malformed, or names flows, slots, options or
            values that ``bot`` does not have.
    """
    labeled = labeled_set if isinstance(labeled_set, LabeledSet) else load_labeled_set(labeled_set)
    engine = bot.engine
    contexts = _contexts(engine, labeled)
    totals: dict[str, list[int]] = {}
    failures: list[Failure] = []
    for index, (case, context) in enumerate(zip(labeled.cases, contexts, strict=True)):
        error = None
        try:
            got = tuple(await engine.understanding.understand(case.text, context))
        except Exception as exc:  # a crash is a wrong answer, and the run goes on
            got, error = (), f"{type(exc).__name__}: {exc}"
        ok = error is None and _same_commands(case.expect, got)
        tally = totals.setdefault(case.expect[0].kind, [0, 0])
        tally[0] += ok
        tally[1] += 1
        if not ok:
            failures.append(Failure(index, case.text, context, case.expect, got, error))
    by_type = {kind: Score(*totals[kind]) for kind in KINDS if kind in totals}
    correct = sum(score.correct for score in by_type.values())
    return Evaluation(Score(correct, len(labeled.cases)), by_type, tuple(failures), labeled.path)


def _same_commands(expected: Sequence[Command], got: Sequence[Command]) -> bool:
    return len(expected) == len(got) and all(map(_same, expected, got))


def _same(expected: Command, got: Command) -> bool:
    if isinstance(expected, StartFlow) and isinstance(got, StartFlow):
        return expected.flow == got.flow and _same_slots(expected.slots, got.slots)
    if isinstance(expected, SetSlot | CorrectSlot) and isinstance(got, SetSlot | CorrectSlot):
        return (
            expected.kind == got.kind
            and expected.slot == got.slot
            and _same_value(expected.value, got.value)
        )
    if isinstance(expected, Choose) and isinstance(got, Choose):
        return expected.option == got.option
    if isinstance(expected, Clarify) and isinstance(got, Clarify):
        return sorted(expected.candidates) == sorted(got.candidates)
    return expected.kind == getattr(got, "kind", None) and expected.kind in _BARE


def _same_slots(expected: Mapping[str, Any], got: Mapping[str, Any]) -> bool:
    return set(expected) == set(got) and all(_same_value(v, got[k]) for k, v in expected.items())


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
_ISO_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?")


def _comparable(value: Any) -> Any:
    """``value`` in the form values are compared in: a float, ISO text or folded text.

    Times are ISO text to the minute unless they have seconds, whether a time or
    its text: ``14:30``, ``"14:30:00"`` and ``datetime.time(14, 30)`` are equal.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return f"{value.date().isoformat()}T{_comparable(value.time())}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat("seconds" if value.second or value.microsecond else "minutes")
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            return float(text)
        if _ISO_TIME.fullmatch(text):  # "14:30" and "14:30:00" are one time
            return _comparable(dt.time.fromisoformat(text))
        if _ISO_DATETIME.fullmatch(text):
            try:
                return _comparable(dt.datetime.fromisoformat(text))
            except ValueError:  # "2026-13-45 10:00": text, compared as text
                pass
        return text.casefold()
    return value


def _same_value(expected: Any, got: Any) -> bool:
    return bool(_comparable(expected) == _comparable(got))


# -- reporting ----------------------------------------------------------------------


def _show(commands: Sequence[Command]) -> str:
    return "; ".join(_show_one(c) for c in commands) if commands else "(nothing)"


def _show_one(command: Command) -> str:
    if isinstance(command, StartFlow):
        slots = ", ".join(f"{k}={v!r}" for k, v in command.slots.items())
        return f"start_flow {command.flow}" + (f" {{{slots}}}" if slots else "")
    if isinstance(command, SetSlot | CorrectSlot):
        return f"{command.kind} {command.slot}={command.value!r}"
    if isinstance(command, Choose):
        return f"choose {command.option}"
    if isinstance(command, Clarify):
        return "clarify " + " | ".join(command.candidates)
    return str(getattr(command, "kind", command))


def _describe(context: ConversationContext) -> str:
    parts = [f"flow {context.active_flow}" if context.active_flow else "no flow"]
    if context.expected_slot is not None:
        parts.append(f"expecting {context.expected_slot.name}")
    if context.awaiting_confirm_step:
        parts.append("confirm step")
    elif context.pending is not None:
        parts.append(f"pending {', '.join(context.pending.options)}")
    if context.slots:
        parts.append("slots " + ", ".join(f"{k}={v!r}" for k, v in context.slots.items()))
    return "; ".join(parts)
