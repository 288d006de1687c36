"""``while``: run the body while the condition holds, then leave."""

from __future__ import annotations

from typing import Any

from soni.dsl.expressions import compile_expression
from soni.engine.core import Engine
from soni.engine.stack import advance
from soni.engine.state import ConversationState
from soni.engine.turn import Turn


async def run_while(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    if compile_expression(inst.step.condition).evaluate(state.get("slots") or {}):
        return advance(state, inst.targets["body"])
    return advance(state, inst.targets.get("exit_to", inst.next))
