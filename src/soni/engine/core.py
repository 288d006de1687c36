"""The Engine: a bot's compiled flows and the services its nodes call."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from soni.actions import ActionRegistry
from soni.actions.validators import ValidatorRegistry, default_validators
from soni.confirmations import ConfirmationRegistry, PendingConfirmation
from soni.dsl.errors import SlotValueError
from soni.dsl.models import BotConfig, SlotDef, zone_of
from soni.dsl.program import Instruction, Program, compile_flow
from soni.dsl.responses import RESPONSES, variants
from soni.dsl.slot_types import coerce
from soni.dsl.templates import compile_template
from soni.engine.events import ActionRan
from soni.engine.stack import current
from soni.engine.state import ConversationState, Frame
from soni.engine.turn import Turn
from soni.errors import did_you_mean
from soni.nlu.protocol import FlowInfo, SlotInfo, Understanding
from soni.nlu.units import day_half_words, example_shape, past_words, unit_words
from soni.storage.journal import ActionJournal, MemoryActionJournal

__all__ = ("Engine", "SlotCheck")

logger = logging.getLogger("soni.engine")

ISSUED_KEPT = 4096
"""How many registered confirmations an Engine keeps at hand (see ``Engine.issued``)."""


@dataclass(frozen=True, slots=True)
class SlotCheck:
    """The outcome of checking a value for a slot: the value to store, or why not."""

    ok: bool
    value: Any = None
    message: str = ""


@dataclass(slots=True)
class Engine:
    """A loaded bot, ready to run conversations.

    Attributes:
        config: The validated bot.
        actions: Where action handlers are looked up.
        confirmations: Where pending confirmations live.
        understanding: Turns text into commands.
        validators: Slot validators by name.
        journal: Records runs of actions without a confirmation (at most once).
        runs: Action runs under way, by claim (``nodes.runs``): their turn may have
            ended, and a later turn that meets the same claim waits for them.
        programs: Each flow, compiled.
        action_ran: Told when a run of an action no confirmation guards ends (the
            ``Bot`` sets it to its event stream; a guarded run's end is a
            confirmation transition, which the registry tells).
    """

    config: BotConfig
    actions: ActionRegistry
    confirmations: ConfirmationRegistry
    understanding: Understanding
    validators: ValidatorRegistry = field(default_factory=default_validators)
    journal: ActionJournal = field(default_factory=MemoryActionJournal)
    runs: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    programs: dict[str, Program] = field(default_factory=dict)
    action_ran: Callable[[ActionRan], Awaitable[None]] | None = None
    # Every slot by name, for code with no flow at hand: the top-level definition,
    # else the first flow's. A step of a flow looks its slots up with ``slot_def``.
    slot_defs: dict[str, SlotDef] = field(default_factory=dict)
    own_slot_defs: dict[str, dict[str, SlotDef]] = field(default_factory=dict)
    asked_slots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    known_slots: frozenset[str] = frozenset()
    flow_infos: tuple[FlowInfo, ...] = ()
    slot_infos: dict[str, SlotInfo] = field(default_factory=dict)
    flow_slot_infos: dict[str, dict[str, SlotInfo]] = field(default_factory=dict)
    # The confirmations this process registered, as registered: a chat decision
    # checks its option against them without a read. Their status may be stale
    # (decided elsewhere since); every decision is a compare-and-set on the
    # stored status, so a stale one only loses the race and is read again.
    issued: OrderedDict[str, PendingConfirmation] = field(default_factory=OrderedDict)
    variant_seed: int = 0
    """Shifts which variant of a message each turn says (see :meth:`pick`)."""
    # Wiring mistakes seen at run time (a handler's result against its declaration),
    # each once, in order: logged when first seen, failed by ``soni test``.
    wiring: dict[str, None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, flow in self.config.flows.items():
            self.programs[name] = compile_flow(name, flow.steps)
            self.asked_slots[name] = tuple(
                dict.fromkeys(
                    i.step.slot
                    for i in self.programs[name].instructions
                    if i.kind in ("collect", "confirm")
                )
            )
            for slot in flow.slots:
                self.slot_defs.setdefault(slot.name, slot)
            self.own_slot_defs[name] = {slot.name: slot for slot in flow.slots}
        for name, slot in self.config.slots.items():
            self.slot_defs[name] = slot
        self.known_slots = frozenset(self.slot_defs).union(
            *(_step_slots(i) for p in self.programs.values() for i in p.instructions)
        )
        # What understanding needs to know of every flow: fixed for the bot's life,
        # so built once here rather than on every turn.
        self.flow_infos = tuple(
            FlowInfo(
                name,
                flow.description or "",
                tuple(flow.trigger.intents) if flow.trigger is not None else (),
                self.asked_slots[name],
            )
            for name, flow in self.config.flows.items()
        )
        self.slot_infos = {name: _info(slot) for name, slot in self.slot_defs.items()}
        self.flow_slot_infos = {
            flow: {**self.slot_infos, **{name: _info(slot) for name, slot in own.items()}}
            for flow, own in self.own_slot_defs.items()
            if own
        }

    def slot_def(self, name: str, flow: str | None = None) -> SlotDef | None:
        """The definition of ``name`` as ``flow`` sees it.

        The flow's own definition shadows a top-level one; a slot ``flow`` does not
        declare (another flow's, say) has its definition from ``slot_defs``.
        """
        own = self.own_slot_defs.get(flow) if flow is not None else None
        found = own.get(name) if own else None
        return found if found is not None else self.slot_defs.get(name)

    def today(self) -> dt.date:
        """Today for the bot's users: the confirmations' clock (which tests move) in the
        bot's ``settings.timezone``, else the machine's."""
        now = self.confirmations.clock()
        zone = self.config.settings.timezone
        return (now.astimezone(zone_of(zone)) if zone else now.astimezone()).date()

    def slot_info(self, name: str, flow: str | None = None) -> SlotInfo | None:
        """What understanding needs to know of ``name``, as ``flow`` sees it."""
        return self.slot_types(flow).get(name)

    def slot_types(self, flow: str | None = None) -> Mapping[str, SlotInfo]:
        """Every slot, for understanding, with ``flow``'s own definitions first."""
        if flow is None:
            return self.slot_infos
        return self.flow_slot_infos.get(flow, self.slot_infos)

    def new_slots(self) -> dict[str, Any]:
        """The slots of a new conversation: every slot that has a ``default`` holds it."""
        return {
            name: value
            for name, slot in self.slot_defs.items()
            if (value := _default(slot)) is not None
        }

    def remember_issued(self, record: PendingConfirmation) -> None:
        self.issued[record.id] = record
        self.issued.move_to_end(record.id)
        while len(self.issued) > ISSUED_KEPT:
            self.issued.popitem(last=False)

    async def confirmation(self, confirmation_id: str, turn: Turn) -> PendingConfirmation | None:
        """The confirmation as ``turn`` last saw it, or as stored."""
        record = turn.records.get(confirmation_id)
        if record is None:
            record = await self.confirmations.get_by_id(confirmation_id)
            if record is not None:
                turn.remember(record)
        return record

    def unknown_slot(self, name: str) -> str | None:
        """Why ``name`` cannot be given a value, or ``None`` when the bot knows the slot."""
        if name in self.known_slots:
            return None
        return f"There is no slot named {name!r}{did_you_mean(name, self.known_slots, limit=3)}."

    def collect_position(self, flow: str, slot: str) -> int | None:
        """Where ``flow`` first asks for ``slot``, if it does."""
        for position, inst in enumerate(self.programs[flow].instructions):
            if inst.kind == "collect" and inst.step.slot == slot:
                return position
        return None

    def fresh_slots(
        self, slots: Mapping[str, Any], flow: str, stack: list[Frame]
    ) -> dict[str, Any]:
        """``slots`` without the answers ``flow`` asks for, so it asks them anew.

        A slot with a ``default`` gets it back instead (and is not asked). Answers
        that a flow already on the stack asked for stay: a digression must not
        wipe what the paused flow collected.
        """
        in_use = {name for frame in stack for name in self.asked_slots.get(frame["flow"], ())}
        fresh = dict(slots)
        for name in self.asked_slots.get(flow, ()):
            if name not in in_use:
                fresh.pop(name, None)
                definition = self.slot_def(name, flow)
                default = _default(definition) if definition is not None else None
                if default is not None:
                    fresh[name] = default
        return fresh

    def instruction(self, state: ConversationState) -> Instruction | None:
        frame = current(state)
        if frame is None:
            return None
        return self.programs[frame["flow"]].at(frame["pos"])

    def render(
        self,
        template: str | list[str] | None,
        slots: Mapping[str, Any],
        state: Mapping[str, object] | None = None,
        *,
        asked_at: str | None = None,
    ) -> str:
        """``template`` filled from ``slots``; of a list of variants, the one this turn
        of ``state``'s conversation says (the first without a state) — or, for a
        question a confirmation records (``asked_at``: the frame and step asking), the
        same one each time it is asked, so asking again is the same confirmation."""
        if isinstance(template, list):
            template = self.pick(template, state, asked_at=asked_at)
        if not template:
            return ""
        return compile_template(template).render(slots)

    def pick(
        self,
        wordings: list[str],
        state: Mapping[str, object] | None,
        *,
        asked_at: str | None = None,
    ) -> str:
        """One of several wordings: the same for a conversation's turn however often
        it is asked for (a re-run after a crash, a re-ask), varied from turn to turn
        and across conversations, and the same in every run of a test (the choice is
        a hash of ``variant_seed``, the conversation and the turn — no randomness)."""
        if len(wordings) < 2 or state is None:
            return wordings[0] if wordings else ""
        when = asked_at if asked_at is not None else state.get("turn", 0)
        where = f"{self.variant_seed}|{state.get('conversation_id', '')}|{when}"
        digest = hashlib.sha256(f"{where}|{'|'.join(wordings)}".encode()).digest()
        return wordings[int.from_bytes(digest[:8], "big") % len(wordings)]

    def say(
        self,
        name: str,
        state: Mapping[str, object] | None = None,
        *,
        in_flow: str | None = None,
        **values: Any,
    ) -> str:
        """The built-in message ``name`` (:data:`soni.dsl.responses.RESPONSES`), in
        the words of the flow ``in_flow`` or of the bot if they gave their own, filled
        from the slots and ``values``."""
        flows = self.config.flows
        own = flows[in_flow].messages if in_flow is not None and in_flow in flows else {}
        wording = own.get(name) or self.config.settings.messages.get(name)
        if wording is None:
            wording = RESPONSES[name].default
        slots = (state or {}).get("slots")
        known = slots if isinstance(slots, Mapping) else {}
        return self.render(wording, {**known, **values}, state)

    def wiring_problem(self, problem: str) -> None:
        """Note a wiring mistake found at run time; logged the first time it is seen."""
        if problem in self.wiring or len(self.wiring) >= _MAX_WIRING:
            return
        self.wiring[problem] = None
        wiring_logger.warning("%s", problem)

    def flow_title(self, flow: str) -> str:
        definition = self.config.flows.get(flow)
        return (definition.description if definition and definition.description else flow).rstrip(
            "."
        )

    async def check_slot(
        self,
        name: str,
        value: Any,
        slots: Mapping[str, Any],
        validator: str | None = None,
        error: str | None = None,
        *,
        flow: str | None = None,
    ) -> SlotCheck:
        """Coerce ``value`` to the slot's type, match its ``pattern``, run its validator
        (or ``validator``).

        A value the pattern does not match is refused as a validator refuses one:
        with ``error``, else the slot's ``validation_error_message``; a validator that
        raises ``ValueError`` is refused with its own message first. ``flow`` is the
        flow the value is for: its own definition of the slot wins.
        """
        slot = self.slot_def(name, flow)
        if slot is None:
            return SlotCheck(True, value)
        error = error or slot.validation_error_message
        unreadable = error or self.say(
            "invalid_value", {"slots": slots}, in_flow=flow, slot=readable_name(name)
        )
        try:
            coerced = coerce(slot.kind, value, choices=slot.choices)
        except SlotValueError as exc:
            reason = str(exc)  # "expected a time (14:30, …), got 'whenever'"
            return SlotCheck(
                False,
                message=error
                or self.say(
                    "unreadable_value",
                    {"slots": slots},
                    in_flow=flow,
                    reason=reason,
                    slot=readable_name(name),
                ),
            )
        except _BAD_VALUE as exc:
            # A value no slot type foresaw (nested ten thousand deep, say): refused
            # like any unreadable value, and the conversation goes on.
            logger.warning("value for slot %r could not be read: %r", name, exc)
            return SlotCheck(False, message=unreadable)
        pattern = slot.compiled_pattern
        if pattern is not None and pattern.fullmatch(coerced) is None:
            # The loader allows a pattern on string slots only: ``coerced`` is text.
            return SlotCheck(False, message=unreadable)
        name_of_validator = validator or slot.validator
        if name_of_validator:
            try:
                valid = await self.validators.resolve(name_of_validator).check(coerced, slots)
            except ValueError as exc:
                # The validator's own words first (docs/bot-format.md "Validators"):
                # it knows why; the slot's message when it gives none.
                return SlotCheck(False, message=str(exc).strip() or unreadable)
            except _BAD_VALUE as exc:
                # The validator could not compute with this value (too big, odd type).
                logger.warning("validator %r failed on a value: %r", name_of_validator, exc)
                return SlotCheck(False, message=unreadable)
            if not valid:
                return SlotCheck(False, message=unreadable)
        return SlotCheck(True, coerced)


_MAX_WIRING = 100
wiring_logger = logging.getLogger("soni.wiring")
"""Where wiring mistakes found at run time are told (a handler's result that does not
fit its action's declaration)."""

# What reading or validating an odd value may raise (besides SlotValueError and a
# validator's own ValueError). Anything else is a bug, and is not hidden.
_BAD_VALUE = (ValueError, OverflowError, TypeError, ArithmeticError, RecursionError)


def readable_name(slot: str) -> str:
    """A slot's name as a person writes it: "preferred time" for ``preferred_time``."""
    return slot.replace("_", " ").strip() or slot


def _info(slot: SlotDef) -> SlotInfo:
    numeric = slot.kind in ("integer", "float")
    prompt = " ".join(variants(slot.prompt)) or None  # every wording of the question
    words = unit_words(slot.name, prompt, slot.description) if numeric else frozenset()
    if slot.kind in ("time", "datetime"):
        # "What time this evening?": a bare "at 8" is then 20:00.
        words = day_half_words(prompt, slot.description)
    if slot.kind in ("date", "datetime"):
        # "When did it happen?": "monday" is the one gone.
        words |= past_words(slot.name, prompt, slot.description)
    pattern = slot.compiled_pattern
    if pattern is None and slot.kind == "string":
        # "What is your tracking number? It looks like PX4482913DE.": what a value
        # looks like, for understanding to find it (validation is unchanged).
        pattern = example_shape(prompt, slot.description)
    return SlotInfo(
        slot.name,
        slot.kind,
        dict(slot.choices or {}),
        slot.validator,
        words,
        pattern,
        " ".join(t for t in (prompt, slot.description) if t),
    )


def _default(slot: SlotDef) -> Any:
    """The slot's default as its type reads it (the loader checked it can), or ``None``."""
    if slot.default is None:
        return None
    try:
        return coerce(slot.kind, copy.deepcopy(slot.default), choices=slot.choices)
    except SlotValueError:
        return None


def _step_slots(inst: Instruction) -> set[str]:
    """The slots a step fills: besides the declared ones, the only slots a bot knows."""
    step = inst.step
    if inst.kind in ("collect", "confirm"):
        return {step.slot}
    if inst.kind == "set":
        return set(step.slots)
    if inst.kind == "action":
        return set(step.map_outputs.values())
    if inst.kind == "call":
        return set(step.inputs) | set(step.outputs.values())
    return set()
