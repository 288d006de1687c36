"""``choose``: offer several actions under one confirmation; run the one picked.

The options are fixed actions (``options``), or one action over each item of a list
held in a slot (``options_from``): each item is an offer of its own, named
``<action>.<n>``, whose arguments carry the item as it was shown, so the approval is
bound to exactly that value; choosing it binds the item to the step's ``bind`` slots.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from soni.confirmations import ActionCall, Status
from soni.confirmations.records import SYSTEM
from soni.dsl import ChooseOption, ChooseStep
from soni.dsl.errors import SlotValueError
from soni.dsl.program import Instruction
from soni.dsl.slot_types import coerce
from soni.dsl.templates import format_value
from soni.engine.core import Engine
from soni.engine.nodes.action import action_args, as_declared, as_json, execute
from soni.engine.nodes.gate import closed_message, gate, says_its_own
from soni.engine.stack import advance, current, end_task, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Turn

logger = logging.getLogger("soni.engine")


async def run_choose(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    step: ChooseStep = inst.step
    slots = state.get("slots") or {}
    if step.options_from is None:
        offers = [
            ActionCall(
                option.action,
                action_args(engine, option.action, slots),
                _label(engine, option, slots),
            )
            for option in step.options or ()
        ]
    else:
        listed = await _offers_from(engine, state, turn, inst)
        if isinstance(listed, dict):
            return listed  # nothing to offer: the step is left
        offers = listed
    frame = current(state)
    asked_at = f"{frame['id'] if frame else ''}:{inst.id}"
    prompt = engine.render(step.message, slots, state, asked_at=asked_at)
    outcome = await gate(engine, state, turn, inst, offers, prompt)
    if outcome.pause is not None:
        return outcome.pause
    record = outcome.decided
    assert record is not None
    if record.status in (Status.SKIPPED, Status.EXPIRED, Status.CANCELLED):
        own = says_its_own(engine, state, inst)
        text = closed_message(engine, state, record, "do any of these", acknowledged=not own)
        if "on_skip" in inst.targets:
            return {**advance(state, inst.targets["on_skip"]), "replies": reply(state, text)}
        return {**end_task(state), "replies": reply(state, text)}
    chosen = record.chosen_action
    assert chosen is not None
    if step.options_from is not None:
        # The item chosen, as it was shown, is the bound slots' value from now on.
        bound = {
            slot: as_declared(engine, slot, chosen.args.get(slot)) for slot in step.bound_slots
        }
        state = {**state, "slots": {**slots, **bound}}
    return await execute(engine, state, turn, inst, chosen.name, record.id, record, outcome.run)


def _label(engine: Engine, option: ChooseOption, slots: Mapping[str, Any]) -> str | None:
    """What the user is shown for an option: its label rendered over the slots ("{free_1}"
    is the time in that slot), else the action's description."""
    if option.label:
        return engine.render(option.label, slots)
    action = engine.config.actions.get(option.action)
    return action.description if action is not None else None


async def _offers_from(
    engine: Engine, state: ConversationState, turn: Turn, inst: Instruction
) -> list[ActionCall] | dict[str, Any]:
    """One offer per item of the step's list; or, when there is nothing to offer, the
    updates that leave the step (to ``on_empty``, else ending the flow).

    The offers follow the list: when it changed since they were made (a digression ran
    the look-up again), the gate replaces them; when it emptied or went wrong, the
    open confirmation is withdrawn, so nothing is left to approve that the data no
    longer holds. A decision already taken stands.
    """
    offers, problem = offers_over(engine, inst.step, state.get("slots") or {})
    if offers:
        return offers
    frame = current(state)
    known = frame.get("confirmation") if frame is not None else None
    record = await engine.confirmation(known, turn) if known else None
    if record is not None and not record.is_open:
        return list(record.actions)  # decided: the gate goes by what was decided
    if record is not None:
        turn.remember(await engine.confirmations.cancel(record, actor=SYSTEM))
    if problem is not None:
        flow = frame["flow"] if frame is not None else "?"
        logger.warning("choose step %r of flow %r cannot offer choices: %s", inst.id, flow, problem)
        if "on_error" in inst.targets:
            return advance(state, inst.targets["on_error"])
        text = engine.say("choices_failed", state, in_flow=frame["flow"] if frame else None)
        return {**end_task(state), "replies": reply(state, text)}
    if "on_empty" in inst.targets:
        return advance(state, inst.targets["on_empty"])
    text = engine.say("nothing_to_choose", state, in_flow=frame["flow"] if frame else None)
    return {**end_task(state), "replies": reply(state, text)}


def offers_over(
    engine: Engine, step: ChooseStep, slots: Mapping[str, Any]
) -> tuple[list[ActionCall], str | None]:
    """The offers of an ``options_from`` step over ``slots``: one per item of its list,
    named ``<action>.<n>``, its arguments holding the item as shown; or what is wrong
    with the list (not a list, an item without the keys ``bind`` names)."""
    assert step.options_from is not None and step.action is not None
    value = slots.get(step.options_from)
    if value is None:
        # An empty look-up is an empty list; no value at all is a look-up that did
        # not fill the slot (a wiring mistake), not "nothing free".
        return [], f"slot {step.options_from!r} has no value: nothing before this step set it"
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        return [], f"slot {step.options_from!r} holds {type(value).__name__}, not a list"
    offers: list[ActionCall] = []
    for number, item in enumerate(value, 1):
        bound = _bound(step, item)
        if bound is None:
            assert isinstance(step.bind, dict)  # a whole item always binds
            keys = ", ".join(repr(key) for key in step.bind.values())
            return [], f"item {number} of {step.options_from!r} is not a mapping with {keys}"
        try:
            shown = {slot: _read(engine, slot, v) for slot, v in bound.items()}
        except ValueError as exc:
            return [], f"item {number} of {step.options_from!r}: {exc}"
        merged = {**slots, **shown}
        # The values as read (a time, the canonical choice), as the label shows them.
        args = {**action_args(engine, step.action, merged), **as_json(shown)}
        label = (
            engine.render(step.label, merged)
            if step.label
            else ", ".join(format_value(v) for v in shown.values())
        )
        offers.append(ActionCall(step.action, args, label, option=f"{step.action}.{number}"))
    return offers, None


def _read(engine: Engine, slot: str, value: Any) -> Any:
    """A bound value read as its slot's type.

    Raises:
        ValueError: it has no value, or one the slot's type cannot read.
    """
    if value is None:
        raise ValueError(f"no value for {slot!r}")
    definition = engine.slot_defs.get(slot)
    if definition is None:
        return value
    try:
        return coerce(definition.kind, value, choices=definition.choices)
    except (SlotValueError, ValueError, TypeError) as exc:
        raise ValueError(f"{value!r} is no {definition.type} for {slot!r} ({exc})") from None


def _bound(step: ChooseStep, item: Any) -> dict[str, Any] | None:
    """The slots an item binds: the whole item to ``bind``, or the keys ``bind`` maps."""
    if isinstance(step.bind, str):
        return {step.bind: item}
    keys = step.bind or {}
    if not isinstance(item, Mapping) or any(key not in item for key in keys.values()):
        return None
    return {slot: item[key] for slot, key in keys.items()}
