"""``branch``: jump by a slot's value or an expression's."""

from __future__ import annotations

from typing import Any

from soni.dsl.expressions import compile_expression
from soni.dsl.patterns import compile_pattern
from soni.engine.core import Engine
from soni.engine.stack import advance
from soni.engine.state import ConversationState
from soni.engine.turn import Turn


async def run_branch(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    step = inst.step
    slots = state.get("slots") or {}
    if step.slot is not None:
        value = slots.get(step.slot)
    else:
        value = compile_expression(step.evaluate).evaluate(slots)
    default: int | None = None
    for pattern in step.cases:
        compiled = compile_pattern(pattern)
        if compiled.is_default:
            default = inst.targets[f"case:{pattern}"]
        elif compiled.matches(value):
            return advance(state, inst.targets[f"case:{pattern}"])
    return advance(state, default if default is not None else inst.next)
