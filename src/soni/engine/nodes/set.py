"""``set``: assign values; a value with ``{slot}`` references is an expression."""

from __future__ import annotations

from typing import Any

from soni.engine.core import Engine
from soni.engine.expressions import compile_expression
from soni.engine.stack import advance
from soni.engine.state import ConversationState


def value_of(raw: Any, slots: dict[str, Any]) -> Any:
    """A literal, or the value of an expression when the text references slots."""
    if isinstance(raw, str) and "{" in raw:
        return compile_expression(raw).evaluate(slots)
    return raw


async def run_set(engine: Engine, state: ConversationState) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    step = inst.step
    slots = dict(state.get("slots") or {})
    if step.condition is None or compile_expression(step.condition).evaluate(slots):
        # Each value sees the slots as they were before the step, like a parallel assignment.
        before = dict(slots)
        for name, raw in step.slots.items():
            slots[name] = value_of(raw, before)
    return {**advance(state, inst.next), "slots": slots}
