"""``collect``: go on if the slot has a valid value; otherwise ask and wait."""

from __future__ import annotations

from typing import Any

from soni.engine.core import Engine, readable_name
from soni.engine.stack import advance, current, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Turn


async def run_collect(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    step = inst.step
    slots = dict(state.get("slots") or {})
    texts: list[str] = []
    held = slots.get(step.slot)
    frame = current(state)
    assert frame is not None
    if held is not None and (frame["id"], inst.id, step.slot) in turn.checked:
        return advance(state, inst.next)  # the answer to this very question, checked
    if held is not None:
        # The value may not have come from this question (a set step, an action's
        # output, a /set while another step was asked): this step's type and
        # validator must hold for it all the same.
        check = await engine.check_slot(
            step.slot,
            held,
            slots,
            step.validator,
            step.validation_error_message,
            flow=frame["flow"],
        )
        if check.ok:
            slots[step.slot] = check.value
            return {**advance(state, inst.next), "slots": slots}
        del slots[step.slot]
        texts.append(check.message)
    definition = engine.slot_def(step.slot, frame["flow"])
    question = step.message or (definition.prompt if definition else None)
    texts.append(
        engine.render(question, slots, state)
        or engine.say("ask_slot", state, in_flow=frame["flow"], slot=readable_name(step.slot))
    )
    return {
        "replies": reply(state, *texts),
        "waiting": {"kind": "slot", "slot": step.slot},
        "slots": slots,
    }
