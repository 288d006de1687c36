"""``link``, ``call`` and ``end``: moving between flows."""

from __future__ import annotations

from typing import Any

from soni.engine.core import Engine
from soni.engine.stack import advance, pop, push, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Turn


def _pairs(spec: Any) -> dict[str, str]:
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {str(k): str(v) for k, v in spec.items()}
    return {str(name): str(name) for name in spec}


async def run_link(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    target = inst.step.target
    # The linked flow takes the place of this one (and its return duties, if called).
    stack = list(state.get("stack") or [])
    # It starts anew, as if the user had started it: it asks its questions again,
    # except those a flow still below on the stack asked (this one is ending).
    slots = engine.fresh_slots(state.get("slots") or {}, target, stack[:-1])
    count = (state.get("frames") or 0) + 1
    stack[-1] = {
        "id": f"f{count}",
        "flow": target,
        "pos": 0,
        "returns": stack[-1].get("returns"),
    }
    return {"stack": stack, "frames": count, "slots": slots}


async def run_call(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    step = inst.step
    # The sub-flow asks its questions anew, except those its inputs answer (and
    # those a flow on the stack asked for). inputs/outputs: {callee slot: caller slot}.
    # Inputs are read first: a caller's slot may be one the sub-flow asks for.
    held = state.get("slots") or {}
    given = {inner: held.get(outer) for inner, outer in _pairs(step.inputs).items()}
    slots = engine.fresh_slots(held, step.target, state.get("stack") or [])
    slots.update(given)
    moved: dict[str, Any] = {**state, **advance(state, inst.next), "slots": slots}
    return {**moved, **push(moved, step.target, returns=_pairs(step.outputs))}  # type: ignore[arg-type]


async def run_end(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    text = engine.render(getattr(inst.step, "message", None), state.get("slots") or {}, state)
    return {**pop(state), "replies": reply(state, text)}
