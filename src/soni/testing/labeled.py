"""The labeled-set format: utterances, their context, the commands they should give.

A labeled set is a YAML file (``docs/nlu-evaluation.md`` has the whole format)::

    today: 2026-11-23            # optional; relative dates count from it
    cases:
      - text: "I need more advil"
        expect: [{start_flow: refill, slots: {medication: ibuprofen}}]
      - text: "actually make it 5"
        context: {flow: refill, expecting: pickup, slots: {quantity: 2}}
        expect: [{correct_slot: quantity, value: 5}]
      - text: "the second one"
        context: {flow: tidy_file, pending: [archive_file, delete_file, share_file]}
        expect: [{choose: delete_file}]
      - text: "no"
        context: {flow: refill, confirm_step: true}
        expect: [deny]

``context`` keys: ``flow`` (the active flow), ``expecting`` (the slot just asked
for), ``slots`` (values so far), ``pending`` (the options of the confirmation
waiting for an answer: a list of names, labelled as the flow's ``choose`` step
labels them, or ``{options: [...], labels: {...}}``), ``confirm_step`` (a
``confirm`` step's yes/no). ``expect`` lists commands: ``affirm``, ``deny``,
``cancel_flow``, ``help``, ``out_of_scope`` by name; ``{start_flow: f, slots: {}}``,
``{set_slot: s, value: v}``, ``{correct_slot: s, value: v}``, ``{choose: option}``,
``{clarify: [f, g]}`` as mappings.

Reading a set checks its structure; :meth:`LabeledSet.check` (and
:func:`soni.testing.evaluate`) checks every name and value it uses against a bot.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soni.dsl import ActionStep, ChooseStep, Location, SourceMap
from soni.dsl.diagnostics import describe_value
from soni.dsl.errors import ConfigError, ConfigErrors, SlotValueError
from soni.dsl.slot_types import coerce
from soni.dsl.source import DataPath, format_path
from soni.dsl.yaml_reader import parse_yaml
from soni.errors import did_you_mean
from soni.nlu.commands import (
    Affirm,
    AskDecision,
    CancelFlow,
    Choose,
    Clarify,
    Command,
    CorrectSlot,
    Deny,
    Help,
    OutOfScope,
    SetSlot,
    StartFlow,
)
from soni.nlu.protocol import ConversationContext, PendingInfo, SlotInfo
from soni.nlu.structured import is_structured

if TYPE_CHECKING:
    from soni.engine import Bot
    from soni.engine.core import Engine

__all__ = (
    "KINDS",
    "CaseContext",
    "LabeledCase",
    "LabeledSet",
    "LabeledSetErrors",
    "load_labeled_set",
    "parse_labeled_set",
)

KINDS = ("start_flow", "set_slot", "correct_slot", "cancel_flow", "affirm", "deny",
         "choose", "clarify", "ask_decision", "help", "out_of_scope")  # fmt: skip
"""Every command kind, in the order reports list them."""

_BARE: dict[str, type[Affirm | Deny | CancelFlow | Help | OutOfScope | AskDecision]] = {
    "affirm": Affirm, "deny": Deny, "cancel_flow": CancelFlow, "help": Help,
    "out_of_scope": OutOfScope, "ask_decision": AskDecision,
}  # fmt: skip
_FIELDS: dict[str, tuple[str, ...]] = {
    "start_flow": ("slots",), "set_slot": ("value",), "correct_slot": ("value",),
    "choose": (), "clarify": (),
}  # fmt: skip
_CONTEXT_KEYS = ("flow", "expecting", "slots", "pending", "confirm_step")


class LabeledSetErrors(ConfigErrors):
    """Every mistake in a labeled set, each a ``ConfigError`` naming the file, line and case."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        super().__init__(sorted(errors, key=lambda e: (e.line or 0, e.column or 0)))
        count = len(self.errors)
        header = f"{count} error{'' if count == 1 else 's'} in the labeled set:"
        self.args = ("\n".join([header, *(f"  {error}" for error in self.errors)]),)


@dataclass(frozen=True, slots=True)
class CaseContext:
    """The conversation a labeled utterance is said in, as the labeled set writes it.

    ``labels`` is ``None`` when the pending options came as a bare list: their
    labels are then the bot's (from the flow's ``choose`` step).
    """

    flow: str | None = None
    expecting: str | None = None
    slots: Mapping[str, Any] = field(default_factory=dict)
    pending: tuple[str, ...] | None = None
    labels: Mapping[str, str] | None = None
    confirm_step: bool = False


@dataclass(frozen=True, slots=True)
class LabeledCase:
    """One utterance, its context and the commands it should give."""

    text: str
    expect: tuple[Command, ...]
    context: CaseContext = field(default_factory=CaseContext)


@dataclass(frozen=True, slots=True)
class LabeledSet:
    """Labeled utterances for one bot.

    Attributes:
        cases: The cases, in file order (``cases[i]`` in messages).
        today: The date relative dates count from; the real today when ``None``.
        path: Where the set was read from, for messages.
        source: Where each element was written, when read from a file.
    """

    cases: tuple[LabeledCase, ...]
    today: dt.date | None = None
    path: str = "<labeled set>"
    source: SourceMap | None = field(default=None, repr=False, compare=False)

    def check(self, bot: Bot) -> None:
        """Check every flow, slot, option and value the set names against ``bot``.

        Raises:
            LabeledSetErrors: every problem found, each naming the file and case.
        """
        _contexts(bot.engine, self)


# -- loading ------------------------------------------------------------------------


def load_labeled_set(path: str | os.PathLike[str]) -> LabeledSet:
    """Read a labeled set from a YAML file (the format is in this module's docstring).

    Raises:
        LabeledSetErrors: the file cannot be read, or is malformed (every problem, each
            with its line and the case it is in).
    """
    display = os.fspath(path)
    try:
        text = Path(display).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        error = ConfigError(display, None, None, f"cannot read the file: {exc}")
        raise LabeledSetErrors([error]) from None
    return parse_labeled_set(text, path=display)


def parse_labeled_set(text: str, *, path: str = "<string>") -> LabeledSet:
    """Read a labeled set from YAML text, as if it were the file ``path``.

    Raises:
        LabeledSetErrors: the text is malformed (every problem found).
    """
    parsed = parse_yaml(text, path)
    if parsed.errors:
        raise LabeledSetErrors(parsed.errors)
    reader = _Reader(path, SourceMap.build(path, parsed.locations))
    labeled = reader.read(parsed.data)
    if reader.errors:
        raise LabeledSetErrors(reader.errors)
    return labeled


class _Reader:
    """Turns a parsed labeled set into cases, collecting every structural error."""

    def __init__(self, path: str, source: SourceMap) -> None:
        self.path = path
        self.source = source
        self.errors: list[ConfigError] = []

    def error(self, where: DataPath, message: str, *, key: bool = False) -> None:
        prefix = f"{format_path(where)}: " if where else ""
        self.errors.append(self.source.locate(where, key=key).error(prefix + message))

    def wrong(self, where: DataPath, wanted: str, value: Any) -> None:
        self.error(where, f"expected {wanted}, got {describe_value(value)}")

    def keys(self, data: dict[str, Any], where: DataPath, allowed: Sequence[str]) -> None:
        for key in data:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f" (expected {', '.join(allowed)})"
                self.error((*where, key), f"unknown key {key!r}{hint}", key=True)

    def read(self, data: Any) -> LabeledSet:
        if not isinstance(data, dict):
            self.wrong((), "a mapping with 'cases'", data)
            return LabeledSet((), path=self.path)
        self.keys(data, (), ("today", "cases"))
        today = None
        if data.get("today") is not None:
            try:
                today = dt.date.fromisoformat(str(data["today"]))
            except ValueError:
                self.wrong(("today",), "a date (yyyy-mm-dd)", data["today"])
        raw = data.get("cases")
        if not isinstance(raw, list) or not raw:
            self.wrong(("cases",), "a list of cases", raw)
            raw = []
        cases = [self.case(item, ("cases", index)) for index, item in enumerate(raw)]
        return LabeledSet(tuple(c for c in cases if c), today, self.path, self.source)

    def case(self, data: Any, where: DataPath) -> LabeledCase | None:
        if not isinstance(data, dict):
            self.wrong(where, "a case (text, expect, context)", data)
            return None
        self.keys(data, where, ("text", "context", "expect"))
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            self.wrong((*where, "text"), "the utterance as (quoted) text", text)
            text = ""
        elif is_structured(text):
            message = "a structured message bypasses understanding; write what a user types"
            self.error((*where, "text"), message)
        context = self.context(data.get("context"), (*where, "context"))
        raw = data.get("expect")
        if not isinstance(raw, list) or not raw:
            self.wrong((*where, "expect"), "a list of commands", raw)
            raw = []
        expect = [self.command(item, (*where, "expect", i)) for i, item in enumerate(raw)]
        return LabeledCase(text, tuple(c for c in expect if c is not None), context)

    def context(self, data: Any, where: DataPath) -> CaseContext:
        if not isinstance(data, dict):
            if data is not None:
                self.wrong(where, f"a mapping ({', '.join(_CONTEXT_KEYS)})", data)
            return CaseContext()
        self.keys(data, where, _CONTEXT_KEYS)
        flow, expecting = self.name(data, "flow", where), self.name(data, "expecting", where)
        slots = data.get("slots") or {}
        if not isinstance(slots, dict):
            self.wrong((*where, "slots"), "a mapping of slot values", slots)
            slots = {}
        pending, labels = self.pending(data.get("pending"), (*where, "pending"))
        confirm_step = data.get("confirm_step", False)
        if not isinstance(confirm_step, bool):
            self.wrong((*where, "confirm_step"), "true or false", confirm_step)
            confirm_step = False
        waits = [key for key in ("expecting", "pending", "confirm_step") if data.get(key)]
        if len(waits) > 1:
            self.error(where, f"{' and '.join(waits)} exclude each other: a bot waits for one")
        if waits and flow is None:
            self.error(where, f"{waits[0]} needs the active 'flow'")
        return CaseContext(flow, expecting, slots, pending, labels, confirm_step)

    def name(self, data: dict[str, Any], key: str, where: DataPath) -> str | None:
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        self.wrong((*where, key), "a name", value)
        return None

    def pending(self, data: Any, where: DataPath) -> tuple[tuple[str, ...] | None, Any]:
        labels: Any = None
        options = data
        if isinstance(data, dict):
            self.keys(data, where, ("options", "labels"))
            options, labels = data.get("options"), data.get("labels") or {}
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                self.wrong((*where, "labels"), "a mapping of option to label", labels)
                labels = {}
            for option in labels:
                if not isinstance(options, list) or option not in options:
                    self.error((*where, "labels", option), f"{option!r} is not a pending option")
        if data is None:
            return None, None
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            self.wrong(where, "a list of option names", options)
            return None, None
        return tuple(options), labels

    def command(self, data: Any, where: DataPath) -> Command | None:
        if isinstance(data, str):
            if data in _BARE:
                return _BARE[data]()
            hint = "; it needs fields" if data in _FIELDS else did_you_mean(data, KINDS)
            self.error(where, f"unknown command {data!r}{hint}")
            return None
        kinds = [key for key in data if key in _FIELDS] if isinstance(data, dict) else []
        if len(kinds) != 1:
            wanted = f"one of {', '.join(_BARE)} or a mapping with one of {', '.join(_FIELDS)}"
            self.wrong(where, wanted, data)
            return None
        kind, head = kinds[0], data[kinds[0]]
        self.keys(data, where, (kind, *_FIELDS[kind]))
        if kind == "clarify":
            if isinstance(head, list) and len(head) > 1 and all(isinstance(f, str) for f in head):
                return Clarify(tuple(head))
            self.wrong((*where, kind), "a list of at least two flow names", head)
            return None
        if not isinstance(head, str):
            self.wrong((*where, kind), "a name", head)
            return None
        if kind == "choose":
            return Choose(head)
        if kind == "start_flow":
            slots = data.get("slots") or {}
            if isinstance(slots, dict):
                return StartFlow(head, slots)
            self.wrong((*where, "slots"), "a mapping of slot values", slots)
            return None
        if data.get("value") is None:
            self.error(where, f"{kind} needs a 'value'")
            return None
        return (SetSlot if kind == "set_slot" else CorrectSlot)(head, data["value"])


# -- checking against a bot ---------------------------------------------------------


def _contexts(engine: Engine, labeled: LabeledSet) -> list[ConversationContext]:
    """What the understanding is given for each case; every mismatch with the bot is raised."""
    checker = _Checker(engine, labeled)
    contexts = [checker.case(i, case) for i, case in enumerate(labeled.cases)]
    if checker.errors:
        raise LabeledSetErrors(checker.errors)
    return contexts


class _Checker:
    def __init__(self, engine: Engine, labeled: LabeledSet) -> None:
        self.engine = engine
        self.labeled = labeled
        self.errors: list[ConfigError] = []
        self.flows = engine.config.flows
        self.offers = {name: _offers(engine, name) for name in self.flows}
        self.actions = set(engine.config.actions) | {
            option for offers in self.offers.values() for group, _ in offers for option in group
        }

    def listed(self, flow: str | None, pending: Sequence[str]) -> ChooseStep | None:
        """The ``options_from`` step of ``flow`` whose offers ``pending`` names
        (``<action>.<n>`` each)."""
        if flow not in self.flows:
            return None
        for step in self.flows[flow].iter_steps():
            if isinstance(step, ChooseStep) and step.options_from is not None:
                prefix = f"{step.action}."
                if pending and all(
                    o.startswith(prefix) and o[len(prefix) :].isdigit() for o in pending
                ):
                    return step
        return None

    def error(self, where: DataPath, message: str) -> None:
        source = self.labeled.source
        place = source.locate(where) if source else Location(self.labeled.path)
        self.errors.append(place.error(f"{format_path(where)}: {message}"))

    def flow(self, name: str, where: DataPath) -> bool:
        if name in self.flows:
            return True
        self.error(where, f"unknown flow {name!r}{did_you_mean(name, self.flows)}")
        return False

    def slot(self, name: str, where: DataPath) -> bool:
        problem = self.engine.unknown_slot(name)
        if problem is not None:
            self.error(where, problem[0].lower() + problem[1:].rstrip("."))
        return problem is None

    def value(self, name: str, value: Any, flow: str | None, where: DataPath) -> Any:
        """``value`` read as the slot's type; a choice must be written as the canonical one."""
        definition = self.engine.slot_def(name, flow)
        if definition is None:
            return value
        try:
            coerced = coerce(definition.kind, value, choices=definition.choices)
        except SlotValueError as exc:
            self.error(where, f"not a value of slot {name!r}: {exc}")
            return value
        if definition.kind == "choice" and str(value).strip().casefold() != coerced.casefold():
            self.error(where, f"write the choice {coerced!r} itself, not {describe_value(value)}")
        return coerced

    def case(self, index: int, case: LabeledCase) -> ConversationContext:
        where: DataPath = ("cases", index)
        context, here = case.context, (*where, "context")
        flow = context.flow if context.flow and self.flow(context.flow, (*here, "flow")) else None
        expected = None
        if context.expecting and self.slot(context.expecting, (*here, "expecting")):
            asked = self.engine.asked_slots.get(flow or "", ())
            if flow and context.expecting not in asked:
                listed = ", ".join(asked) or "nothing"
                message = f"flow {flow!r} does not ask for {context.expecting!r} (only {listed})"
                self.error((*here, "expecting"), message)
            info = self.engine.slot_info(context.expecting, flow)
            expected = info or SlotInfo(context.expecting, "any")
        slots = {
            name: self.value(name, value, flow, (*here, "slots", name))
            for name, value in context.slots.items()
            if self.slot(name, (*here, "slots", name))
        }
        pending = self.pending(index, flow, context, slots, (*here, "pending"))
        for position, command in enumerate(case.expect):
            self.command(command, flow, pending, (*where, "expect", position))
        return ConversationContext(
            active_flow=context.flow,
            expected_slot=expected,
            slots=slots,
            pending=pending,
            awaiting_confirm_step=context.confirm_step,
            flows=self.engine.flow_infos,
            slot_types=self.engine.slot_types(flow),
            today=self.labeled.today,
        )

    def pending(
        self,
        index: int,
        flow: str | None,
        context: CaseContext,
        slots: Mapping[str, Any],
        where: DataPath,
    ) -> PendingInfo | None:
        if context.confirm_step:
            return PendingInfo(f"labeled-{index}", ("confirm",))
        if context.pending is None:
            return None
        listed = self.listed(flow, context.pending)
        if listed is not None and context.labels is None:
            # As the bot shows them: each item of the list in the case's slots.
            from soni.engine.nodes.choose import offers_over  # the engine, when needed

            calls, problem = offers_over(self.engine, listed, slots)
            keys = tuple(call.key for call in calls)
            if keys != context.pending:
                shown = f"they are [{', '.join(keys)}]" if problem is None else problem
                self.error(
                    where,
                    f"the options over slot {listed.options_from!r} in the case's slots are "
                    f"not [{', '.join(context.pending)}]: {shown}",
                )
            labels = {call.key: call.label for call in calls if call.label}
            return PendingInfo(f"labeled-{index}", context.pending, labels)
        if context.labels is not None:
            for option in context.pending:
                if option not in self.actions and listed is None:
                    self.error(
                        where, f"unknown action {option!r}{did_you_mean(option, self.actions)}"
                    )
            return PendingInfo(f"labeled-{index}", context.pending, dict(context.labels))
        offers = self.offers.get(flow or "", [])
        for group, labels in offers:
            if group == context.pending:
                # As the bot shows them: each label rendered over the slots ("{first_time}
                # with {first_dentist}"), else the action's description.
                rendered = {o: self.engine.render(label, slots) for o, label in labels.items()}
                return PendingInfo(f"labeled-{index}", group, rendered)
        if flow is not None:
            shown = "; ".join(f"[{', '.join(group)}]" for group, _ in offers) or "none"
            asked = ", ".join(context.pending)
            self.error(
                where,
                f"flow {flow!r} asks no confirmation of [{asked}]; its confirmations: {shown}",
            )
        return PendingInfo(f"labeled-{index}", context.pending)

    def command(
        self, command: Command, flow: str | None, pending: PendingInfo | None, where: DataPath
    ) -> None:
        if isinstance(command, StartFlow):
            started = command.flow if self.flow(command.flow, (*where, "start_flow")) else None
            for name, value in command.slots.items():
                if self.slot(name, (*where, "slots", name)):
                    self.value(name, value, started, (*where, "slots", name))
        elif isinstance(command, SetSlot | CorrectSlot):
            if self.slot(command.slot, (*where, command.kind)):
                self.value(command.slot, command.value, flow, (*where, "value"))
        elif isinstance(command, Choose):
            if pending is None:
                self.error(where, "choose needs a pending confirmation in the context")
            elif command.option not in pending.options:
                options = ", ".join(pending.options)
                message = f"{command.option!r} is not a pending option ({options})"
                self.error((*where, "choose"), message)
        elif isinstance(command, Clarify):
            for position, name in enumerate(command.candidates):
                self.flow(name, (*where, "clarify", position))
            if len(set(command.candidates)) != len(command.candidates):
                self.error((*where, "clarify"), "a flow is listed twice")


def _offers(engine: Engine, flow: str) -> list[tuple[tuple[str, ...], dict[str, str]]]:
    """The confirmations ``flow`` may ask: each guarded action and each choose step."""
    declared = engine.config.actions
    offers: list[tuple[tuple[str, ...], dict[str, str]]] = []
    for step in engine.config.flows[flow].iter_steps():
        if isinstance(step, ChooseStep) and step.options is not None:
            group = tuple(option.action for option in step.options)
            labels = {}
            for option in step.options:
                action = declared.get(option.action)
                label = option.label or (action.description if action is not None else None)
                if label:
                    labels[option.action] = label
            offers.append((group, labels))
        elif isinstance(step, ActionStep):
            action = declared.get(step.call)
            if step.confirm or (action is not None and action.confirm):
                offers.append(((step.call,), {}))
    return offers
