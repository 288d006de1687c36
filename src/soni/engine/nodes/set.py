"""``set``: assign values; a text with ``{slot}`` references is computed or rendered."""

from __future__ import annotations

from typing import Any

from soni.dsl.errors import ExpressionError
from soni.dsl.expressions import Expression, compile_computed, compile_expression, numeric_value
from soni.dsl.templates import compile_template
from soni.engine.core import Engine
from soni.engine.stack import advance
from soni.engine.state import ConversationState
from soni.engine.turn import Turn


def value_of(raw: Any, slots: dict[str, Any]) -> Any:
    """A literal; for a text with ``{slot}`` references, an expression or a template.

    ``"{counter} + 1"`` is an expression and keeps its type; ``"Hello {name}"`` is
    not one, so it is rendered as a template (the loader decided the same way).
    """
    if isinstance(raw, str) and "{" in raw:
        computed = compile_computed(raw)
        if not isinstance(computed, Expression):
            return computed.render(slots)
        try:
            return computed.evaluate(slots)
        except ExpressionError:
            # "{first}-{last}" reads as a subtraction, but with texts on both sides
            # it can only have been meant as a template (soni 1.0 read it so).
            texts = [slots.get(name) for name in computed.names]
            if texts and all(isinstance(t, str) and numeric_value(t) is None for t in texts):
                return compile_template(raw).render(slots)
            raise
    return raw


async def run_set(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
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
