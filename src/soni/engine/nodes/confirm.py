"""``confirm``: ask yes or no, store the answer in the step's slot.

Yes goes on (``on_confirm`` or the next step); no jumps to ``on_deny`` or ends the flow.
"""

from __future__ import annotations

from typing import Any

from soni.confirmations import ActionCall, Status
from soni.engine.core import Engine
from soni.engine.nodes.gate import closed_message, gate
from soni.engine.stack import advance, end_task, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Turn


async def run_confirm(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    step = inst.step
    slots = dict(state.get("slots") or {})
    flow = state["stack"][-1]["flow"]
    asked_at = f"{state['stack'][-1]['id']}:{inst.id}"
    question = engine.render(step.message, slots, state, asked_at=asked_at) or engine.say(
        "confirm_question", state, in_flow=flow
    )
    # The confirmation records what was asked: the question's slot values.
    offer = ActionCall("confirm", {"slot": step.slot, "question": question})
    outcome = await gate(engine, state, turn, inst, [offer], question)
    if outcome.pause is not None:
        return outcome.pause
    record = outcome.decided
    assert record is not None
    if record.status in (Status.APPROVED, Status.EXECUTING, Status.EXECUTED):
        slots[step.slot] = True  # the confirm step's slot holds the answer
        target = inst.targets.get("on_confirm", inst.next)
        return {**advance(state, target), "slots": slots}
    if record.status is Status.EXPIRED:
        text = closed_message(engine, state, record, "go on")
        return {**end_task(state), "replies": reply(state, text)}
    slots[step.slot] = False
    if "on_deny" in inst.targets:
        return {**advance(state, inst.targets["on_deny"]), "slots": slots}
    # A "no" never falls through to the next step.
    text = engine.say("cancelled", state, in_flow=flow, flow=engine.flow_title(flow))
    return {**end_task(state), "slots": slots, "replies": reply(state, text)}
