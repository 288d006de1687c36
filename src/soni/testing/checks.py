"""Checking a test file against the bot it tests, before anything runs.

A test that names an action the bot never calls, a slot it does not know or a flow
it does not have can only fail, and would fail with a puzzling message; each is
reported instead as a ``ConfigError`` at its line, with the closest names.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from soni.dsl.errors import ConfigError
from soni.engine.core import Engine
from soni.errors import did_you_mean
from soni.testing.loading import ConversationTestFile
from soni.testing.models import (
    ActionExecutedStep,
    ActionFailedStep,
    ActionNotExecutedStep,
    ChooseStep,
    FlowStep,
    PendingStep,
    SlotStep,
)

__all__ = ("BotNames", "check_references")


@dataclass(frozen=True, slots=True)
class BotNames:
    """The names a test may refer to."""

    actions: frozenset[str]
    """The actions the bot's flows call (action steps, choose options)."""
    labels: frozenset[str]
    """The labels of choose options."""
    slots: frozenset[str]
    flows: frozenset[str]
    listed: frozenset[str] = frozenset()
    """The actions choose steps offer over a list (``options_from``): an option is
    ``<action>.<n>``, and labels are the data's, not known before the test runs."""

    def offers(self, option: str) -> bool:
        """Whether ``option`` may name an offer: an action, a fixed label, or — where a
        choose step offers a list — its ``<action>.<n>`` or any label."""
        if option in self.actions or option in self.labels:
            return True
        if not self.listed:
            return False
        action, _, number = option.rpartition(".")
        return not (number.isdigit() and action not in self.listed)

    @classmethod
    def of(cls, engine: Engine) -> BotNames:
        actions: set[str] = set()
        labels: set[str] = set()
        listed: set[str] = set()
        for program in engine.programs.values():
            for inst in program.instructions:
                if inst.kind == "action":
                    actions.add(inst.step.call)
                elif inst.kind == "choose":
                    actions.update(inst.step.actions)
                    if inst.step.options_from is not None:
                        listed.update(inst.step.actions)
                    for option in inst.step.options or ():
                        if option.label:
                            labels.add(option.label)
        return cls(
            frozenset(actions),
            frozenset(labels),
            frozenset(engine.known_slots),
            frozenset(engine.config.flows),
            frozenset(listed),
        )


def check_references(
    file: ConversationTestFile, names: BotNames, tests: Iterable[int] | None = None
) -> list[ConfigError]:
    """Every reference of the tests (all, or the given indexes) the bot cannot satisfy."""
    errors: list[ConfigError] = []
    indexes = range(len(file.tests)) if tests is None else tests
    for index in indexes:
        test = file.tests[index]
        for slot in test.slots:
            if slot not in names.slots:
                at = file.locate("tests", index, "slots", slot, key=True)
                where = f"tests[{index}].slots"
                errors.append(at.error(_unknown(where, "slot", slot, names.slots)))
        for action in test.stub_actions:
            if action not in names.actions:
                at = file.locate("tests", index, "stub_actions", action, key=True)
                where = f"tests[{index}].stub_actions"
                errors.append(at.error(_unknown(where, "action", action, names.actions)))
        for position, step in enumerate(test.steps):
            at = file.locate("tests", index, "steps", position)
            for problem in _step_problems(step, names):
                errors.append(at.error(f"tests[{index}].steps[{position}]: {problem}"))
    return errors


def _step_problems(step: object, names: BotNames) -> list[str]:
    found: list[str] = []
    if isinstance(step, PendingStep) and step.pending is not None:
        wanted = [step.pending.action] if step.pending.action else []
        wanted += step.pending.options or []
        found += [_unknown("pending", "action", a, names.actions) for a in wanted
                  if a not in names.actions and not _listed_option(a, names)]  # fmt: skip
    elif isinstance(step, ActionExecutedStep | ActionNotExecutedStep | ActionFailedStep):
        action = getattr(step, step.key)
        if action not in names.actions:
            found.append(_unknown(step.key, "action", action, names.actions))
    elif isinstance(step, ChooseStep):
        if not names.offers(step.choose):
            options = names.actions | names.labels
            found.append(_unknown("choose", "option", step.choose, options))
    elif isinstance(step, SlotStep):
        found += [_unknown("slot", "slot", s, names.slots) for s in step.slot
                  if s not in names.slots]  # fmt: skip
    elif isinstance(step, FlowStep) and step.flow is not None and step.flow not in names.flows:
        found.append(_unknown("flow", "flow", step.flow, names.flows))
    return found


def _listed_option(option: str, names: BotNames) -> bool:
    """Whether ``option`` is ``<action>.<n>`` of an action offered over a list."""
    action, _, number = option.rpartition(".")
    return number.isdigit() and action in names.listed


_PHRASES = {
    "action": "the bot never calls an action named {name!r}",
    "slot": "the bot has no slot named {name!r}",
    "flow": "the bot has no flow named {name!r}",
    "option": "no choose step of the bot offers {name!r}",
}


def _unknown(where: str, noun: str, name: str, known: Collection[str]) -> str:
    return f"{where}: {_PHRASES[noun].format(name=name)}{did_you_mean(name, known)}"
