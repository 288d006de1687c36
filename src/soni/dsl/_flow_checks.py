"""The checks of one flow: its steps, their jumps and the slots they use.

Split from :mod:`soni.dsl.validate`, which runs them once per flow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from soni.dsl.expressions import Expression, compile_computed
from soni.dsl.models import FlowDef, SlotDef
from soni.dsl.patterns import compile_pattern
from soni.dsl.source import DataPath
from soni.dsl.steps import (
    END,
    ActionStep,
    BranchStep,
    CallStep,
    ChooseStep,
    CollectStep,
    ConfirmStep,
    EndStep,
    LinkStep,
    SayStep,
    SetStep,
    Step,
    WhileStep,
)
from soni.errors import did_you_mean

if TYPE_CHECKING:
    from soni.dsl.validate import BotChecker

__all__ = ("FlowChecker", "assigned_slots")

_FORMATTED = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*):[^{}]*\}")


def _walk(flow: FlowDef, base: DataPath) -> Iterator[tuple[Step, DataPath]]:
    """Each step of a flow with its data path, inline loop steps included."""
    for index, step in enumerate(flow.steps):
        yield from _walk_step(step, (*base, "steps", index))


def _walk_step(step: Step, path: DataPath) -> Iterator[tuple[Step, DataPath]]:
    yield step, path
    if isinstance(step, WhileStep):
        for index, item in enumerate(step.do):
            if not isinstance(item, str):
                yield from _walk_step(item, (*path, "do", index))


def assigned_slots(flow: FlowDef) -> set[str]:
    """The slots a flow's steps assign."""
    names: set[str] = set()
    for step, _ in _walk(flow, ()):
        if isinstance(step, SetStep):
            names.update(step.slots)
        elif isinstance(step, ActionStep):
            names.update(step.map_outputs.values())
        elif isinstance(step, CallStep):
            names.update(step.outputs.values())
        elif isinstance(step, ConfirmStep):
            names.add(step.slot)
        elif isinstance(step, ChooseStep):
            names.update(step.bound_slots)
    return names


class FlowChecker:
    """The checks of one flow."""

    def __init__(self, bot: BotChecker, name: str, flow: FlowDef) -> None:
        self.bot = bot
        self.name = name
        self.flow = flow
        self.path: DataPath = ("flows", name)
        self.declared = bot.declared[name]
        self.usable = bot.usable[name]
        self.ids = flow.step_ids()

    def run(self) -> None:
        bot = self.bot
        for index, intent in enumerate(self.flow.trigger.intents):
            path = (*self.path, "trigger", "intents", index)
            bot.template(path, intent, self.usable)
            spec = _FORMATTED.search(intent)
            if spec is not None:
                bot.error(
                    path,
                    f"a trigger phrase names a slot bare ({{{spec.group(1)}}}, not "
                    f"{spec.group()!r}): a format spec only shapes what the bot says",
                )
        first: dict[str, int] = {}
        for index, slot in enumerate(self.flow.slots):
            path = (*self.path, "slots", index)
            if slot.name in first:
                where = bot.source.locate((*self.path, "slots", first[slot.name]))
                bot.error(
                    (*path, "name"), f"slot {slot.name!r} is declared twice (first at {where})"
                )
            first.setdefault(slot.name, index)
            bot.check_slot(slot, path, self.usable)
        seen: dict[str, DataPath] = {}
        for step, path in _walk(self.flow, self.path):
            if step.step == END:
                bot.error((*path, "step"), f"{END!r} cannot be a step id: it ends the flow")
            elif step.step in seen:
                where = bot.source.locate((*seen[step.step], "step"))
                bot.error((*path, "step"), f"duplicate step id {step.step!r} (first at {where})")
            seen.setdefault(step.step, path)
            self.step(step, path)

    # -- helpers ----------------------------------------------------------------

    def jump(self, path: DataPath, target: str | None, field: str) -> None:
        if target is None or target == END or target in self.ids:
            return
        self.bot.error(
            path,
            f"{field!r} names unknown step {target!r}{did_you_mean(target, self.ids)}"
            f"; a jump names a step of this flow or {END!r}",
        )

    def write(self, path: DataPath, name: str, *, key: bool = False) -> None:
        # Only reachable with implicit_slots=False: otherwise assigning declares.
        if name not in self.usable:
            self.bot.error(
                path,
                f"slot {name!r} is not declared{did_you_mean(name, self.declared)}",
                key=key,
            )

    def template(self, path: DataPath, text: str | list[str] | None) -> None:
        self.bot.template(path, text, self.usable)

    def expression(self, path: DataPath, text: str | None) -> None:
        self.bot.expression(path, text, self.usable)

    def computed(self, path: DataPath, text: str) -> None:
        # A set value with "{" is computed when it is an expression ("{n} + 1") and
        # rendered as a template otherwise ("Hello {name}"), as the engine does.
        computed = self.bot.parses(path, text, compile_computed, "template")
        if computed is not None:
            what = "the expression" if isinstance(computed, Expression) else None
            self.bot.names(path, text, computed.names, self.usable, what)

    def no_next(self, step: Step, path: DataPath, instead: str) -> None:
        if step.next is not None:
            message = f"'next' has no effect on a {step.type} step; {instead}"
            self.bot.error((*path, "next"), message)

    # -- each step type ---------------------------------------------------------

    def step(self, step: Step, path: DataPath) -> None:
        self.jump((*path, "next"), step.next, "next")
        if isinstance(step, SayStep | EndStep):
            self.template((*path, "message"), step.message)
            if isinstance(step, EndStep):
                self.no_next(step, path, "the flow ends here")
        elif isinstance(step, CollectStep):
            self.collect(step, path)
        elif isinstance(step, SetStep):
            for name, value in step.slots.items():
                self.write((*path, "slots", name), name, key=True)
                if isinstance(value, str) and "{" in value:
                    self.computed((*path, "slots", name), value)
            self.expression((*path, "condition"), step.condition)
        elif isinstance(step, BranchStep):
            self.branch(step, path)
        elif isinstance(step, WhileStep):
            self.loop(step, path)
        elif isinstance(step, ActionStep):
            self.action(step, path)
        elif isinstance(step, ChooseStep):
            self.template((*path, "message"), step.message)
            for index, option in enumerate(step.options or ()):
                self.bot.action((*path, "options", index, "action"), option.action)
                self.template((*path, "options", index, "label"), option.label)
            if step.options_from is not None:
                self.options_from(step, path)
            self.jump((*path, "on_skip"), step.on_skip, "on_skip")
            self.jump((*path, "on_error"), step.on_error, "on_error")
            self.jump((*path, "on_unknown"), step.on_unknown, "on_unknown")
        elif isinstance(step, ConfirmStep):
            self.write((*path, "slot"), step.slot)
            self.template((*path, "message"), step.message)
            self.jump((*path, "on_confirm"), step.on_confirm, "on_confirm")
            self.jump((*path, "on_deny"), step.on_deny, "on_deny")
        elif isinstance(step, LinkStep):
            self.flow_target((*path, "target"), step.target)
            self.no_next(step, path, "the linked flow replaces this one")
        elif isinstance(step, CallStep):
            self.call(step, path)

    def collect(self, step: CollectStep, path: DataPath) -> None:
        if step.slot not in self.declared:
            self.bot.error(
                (*path, "slot"),
                f"slot {step.slot!r} is not declared{did_you_mean(step.slot, self.declared)}; "
                "a collected slot needs a declaration under 'slots' (its type, its prompt)",
            )
        self.template((*path, "message"), step.message)
        self.template((*path, "validation_error_message"), step.validation_error_message)
        self.bot.validator((*path, "validator"), step.validator)

    def branch(self, step: BranchStep, path: DataPath) -> None:
        if step.slot is not None:
            self.bot.read((*path, "slot"), step.slot, self.usable)
        self.expression((*path, "evaluate"), step.evaluate)
        for pattern, target in step.cases.items():
            case_path = (*path, "cases", pattern)
            self.check_pattern(case_path, pattern)
            if target != END and target not in self.ids:
                self.bot.error(
                    case_path,
                    f"case {pattern!r} jumps to unknown step {target!r}"
                    f"{did_you_mean(target, self.ids)}",
                )

    def check_pattern(self, path: DataPath, pattern: str) -> None:
        self.bot.parses(path, pattern, compile_pattern, "case pattern", key=True)

    def loop(self, step: WhileStep, path: DataPath) -> None:
        self.expression((*path, "condition"), step.condition)
        self.no_next(step, path, "use 'exit_to' to say where the loop exits")
        self.jump((*path, "exit_to"), step.exit_to, "exit_to")
        for index, item in enumerate(step.do):
            if not isinstance(item, str):
                continue
            item_path = (*path, "do", index)
            if item == step.step:
                self.bot.error(item_path, f"the loop {item!r} cannot run itself")
            elif item not in self.ids:
                self.bot.error(
                    item_path, f"'do' names unknown step {item!r}{did_you_mean(item, self.ids)}"
                )

    def action(self, step: ActionStep, path: DataPath) -> None:
        self.bot.action((*path, "call"), step.call)
        declared = self.bot.config.actions.get(step.call)
        outputs = declared.outputs if declared is not None else []
        for key, slot in step.map_outputs.items():
            if outputs and key not in outputs:
                self.bot.error(
                    (*path, "map_outputs", key),
                    f"action {step.call!r} declares no output {key!r}{did_you_mean(key, outputs)}",
                    key=True,
                )
            self.write((*path, "map_outputs", key), slot)
        self.template((*path, "confirm"), step.confirm)
        self.jump((*path, "on_skip"), step.on_skip, "on_skip")
        self.jump((*path, "on_error"), step.on_error, "on_error")
        self.jump((*path, "on_unknown"), step.on_unknown, "on_unknown")

    def options_from(self, step: ChooseStep, path: DataPath) -> None:
        """A choose step over a list: the list a slot, the action known, the bound slots
        usable and the label rendered over them."""
        assert step.options_from is not None and step.action is not None
        self.bot.read((*path, "options_from"), step.options_from, self.usable)
        listed = self.slot_def(step.options_from)
        if listed is not None and listed.kind != "any":
            self.bot.error(
                (*path, "options_from"),
                f"slot {step.options_from!r} is a {listed.type}; 'options_from' reads a list, "
                "so declare the slot with 'type: any' (an action's output fills it)",
            )
        self.bot.action((*path, "action"), step.action)
        if isinstance(step.bind, str):
            self.write((*path, "bind"), step.bind)
        else:
            for slot in step.bind or {}:
                self.write((*path, "bind", slot), slot, key=True)
        if step.options_from in step.bound_slots:
            self.bot.error(
                (*path, "bind"),
                f"'bind' names {step.options_from!r}, the list itself; bind the chosen "
                "item to another slot",
            )
        self.template((*path, "label"), step.label)
        self.jump((*path, "on_empty"), step.on_empty, "on_empty")

    def slot_def(self, name: str) -> SlotDef | None:
        """The declaration of ``name`` this flow sees: its own, else the bot's."""
        own = next((slot for slot in self.flow.slots if slot.name == name), None)
        return own if own is not None else self.bot.config.slots.get(name)

    def flow_target(self, path: DataPath, target: str) -> bool:
        flows = self.bot.config.flows
        if target in flows:
            return True
        self.bot.error(path, f"unknown flow {target!r}{did_you_mean(target, flows)}")
        return False

    def call(self, step: CallStep, path: DataPath) -> None:
        known = self.flow_target((*path, "target"), step.target)
        callee = self.bot.usable.get(step.target, frozenset()) if known else None
        # Both mappings read {sub-flow slot: this flow's slot}.
        for field, pairs in (("inputs", step.inputs), ("outputs", step.outputs)):
            for inner, outer in pairs.items():
                pair_path = (*path, field, inner)
                if callee is not None and inner not in callee:
                    self.bot.error(
                        pair_path,
                        f"flow {step.target!r} has no slot {inner!r}{did_you_mean(inner, callee)}",
                        key=True,
                    )
                if field == "inputs":
                    self.bot.read(pair_path, outer, self.usable)
                else:
                    self.write(pair_path, outer)
