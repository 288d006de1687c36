"""``collect``: go on if the slot has a value; otherwise ask and wait."""

from __future__ import annotations

from typing import Any

from soni.engine.core import Engine
from soni.engine.stack import advance, reply
from soni.engine.state import ConversationState


async def run_collect(engine: Engine, state: ConversationState) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    step = inst.step
    slots = state.get("slots") or {}
    if slots.get(step.slot) is not None:
        return advance(state, inst.next)
    definition = engine.slot_defs.get(step.slot)
    question = step.message or (definition.prompt if definition else None)
    texts = []
    rejected = state.get("rejected")
    if rejected and rejected.get("slot") == step.slot:
        texts.append(rejected["message"])
    texts.append(engine.render(question, slots) or f"What is the {step.slot}?")
    return {
        "replies": reply(state, *texts),
        "waiting": {"kind": "slot", "slot": step.slot},
        "rejected": None,
    }
