"""``say``: reply with a message, then go on."""

from __future__ import annotations

from typing import Any

from soni.engine.core import Engine
from soni.engine.stack import advance, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Turn


async def run_say(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    text = engine.render(inst.step.message, state.get("slots") or {}, state)
    return {**advance(state, inst.next), "replies": reply(state, text)}
