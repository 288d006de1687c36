"""``choose``: offer several actions under one confirmation; run the one picked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from soni.confirmations import ActionCall, Status
from soni.dsl import ChooseOption
from soni.engine.core import Engine
from soni.engine.nodes.action import action_args, execute
from soni.engine.nodes.gate import closed_message, gate
from soni.engine.stack import advance, end_task, reply
from soni.engine.state import ConversationState


async def run_choose(engine: Engine, state: ConversationState) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    step = inst.step
    slots = state.get("slots") or {}
    offers = [
        ActionCall(
            option.action, action_args(engine, option.action, slots), _label(engine, option, slots)
        )
        for option in step.options
    ]
    outcome = await gate(engine, state, inst, offers, engine.render(step.message, slots))
    if outcome.pause is not None:
        return outcome.pause
    record = outcome.decided
    assert record is not None
    if record.status in (Status.SKIPPED, Status.EXPIRED, Status.CANCELLED):
        text = closed_message(engine, record, "do any of these")
        if "on_skip" in inst.targets:
            return {**advance(state, inst.targets["on_skip"]), "replies": reply(state, text)}
        return {**end_task(state), "replies": reply(state, text)}
    assert record.chosen is not None
    return await execute(engine, state, inst, record.chosen, record.id, record, outcome.run)


def _label(engine: Engine, option: ChooseOption, slots: Mapping[str, Any]) -> str | None:
    """What the user is shown for an option: its label rendered over the slots ("{free_1}"
    is the time in that slot), else the action's description."""
    if option.label:
        return engine.render(option.label, slots)
    action = engine.config.actions.get(option.action)
    return action.description if action is not None else None
