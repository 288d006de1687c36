"""``action``: run a handler — after a pending confirmation when the step is guarded.

The handler runs only in the node that follows the decision, and at most once:
``begin_execution`` hands the run to exactly one caller; a re-run after a crash
gets the recorded result instead of calling the handler again, and a run whose
outcome was lost is reported as unknown (``runs``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from soni.actions import ActionContext
from soni.confirmations import ActionCall, Execution, PendingConfirmation, Status
from soni.dsl.errors import SlotValueError
from soni.dsl.program import Instruction
from soni.dsl.slot_types import coerce
from soni.engine.core import Engine
from soni.engine.nodes.gate import closed_message, gate, says_its_own
from soni.engine.nodes.runs import Call, run_approved, run_journaled
from soni.engine.stack import advance, current, end_task, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Turn
from soni.errors import did_you_mean
from soni.storage.journal import run_key

logger = logging.getLogger("soni.engine")


def action_args(engine: Engine, name: str, slots: Mapping[str, Any]) -> dict[str, Any]:
    """What a call depends on: the declared inputs, the handler's slot parameters, or —
    for a handler that takes the whole ``slots`` dict — every slot.

    A confirmation records these (the action runs with them, as approved), and the
    journal of unguarded runs tells calls apart by them.
    """
    declared = engine.config.actions.get(name)
    spec = engine.actions.get_spec(name)
    if declared is not None and declared.inputs:
        chosen = {n: slots.get(n) for n in declared.inputs}
    elif spec is not None and spec.mode == "slots":
        chosen = dict(slots)
    else:
        chosen = {n: slots.get(n) for n in (spec.params if spec is not None else ())}
    # Recorded as JSON: dates and other values become their text.
    safe: dict[str, Any] = json.loads(json.dumps(chosen, default=str))
    return safe


async def execute(
    engine: Engine,
    state: ConversationState,
    turn: Turn,
    inst: Instruction,
    name: str,
    idempotency_key: str,
    record: PendingConfirmation | None = None,
    run: Execution | None = None,
) -> dict[str, Any]:
    """Run ``name`` (once) and map its outputs; on failure, jump to ``on_error``.

    With ``record`` (an approved confirmation) the run is claimed first — unless
    ``run`` is that claim, already made with the decision. A run whose outcome was
    lost in a crash goes to ``on_unknown`` (see ``runs``).
    """
    frame = current(state)
    assert frame is not None
    slots = dict(state.get("slots") or {})
    # An approved call runs with the values the user approved, whatever the slots
    # hold now (a digression may have changed one since).
    approved = record.chosen_action if record is not None else None
    arguments = _as_approved(engine, slots, approved.args) if approved is not None else slots
    ctx = ActionContext(
        conversation_id=state.get("conversation_id", ""),
        user_id=state.get("user_id"),
        flow=frame["flow"],
        step=inst.id,
        idempotency_key=idempotency_key,
        confirmation_token=None,
    )
    declared = engine.config.actions.get(name)
    timeout = declared.timeout if declared is not None else None
    if record is not None:
        outcome = await run_approved(Call(engine, name, arguments, ctx, timeout), record, run, turn)
    else:
        # No confirmation records this run: the journal does, so a turn retried
        # after a crash gets the result instead of running the handler again.
        key = run_key(idempotency_key, action_args(engine, name, slots))
        outcome = await run_journaled(Call(engine, name, slots, ctx, timeout), key)
    what = name.replace("_", " ")
    if outcome.kind in ("unknown", "running"):
        # Not a failure: the action may well have happened. Never invite a retry.
        if "on_unknown" in inst.targets:
            return {**advance(state, inst.targets["on_unknown"]), "slots": slots}
        ended = end_task(state)
        told = "action_running" if outcome.kind == "running" else "action_unknown"
        text = engine.say(told, state, in_flow=frame["flow"], action=what)
        return {**ended, "replies": reply(state, text)}
    if outcome.kind == "failed":
        if "on_error" in inst.targets:
            return {**advance(state, inst.targets["on_error"]), "slots": slots}
        # Never treat the failing step as done: end this flow, say so, keep the
        # conversation usable for the next message.
        logger.warning("action %s failed in %s: %s", name, frame["flow"], outcome.error)
        ended = end_task(state)
        text = engine.say("action_failed", state, in_flow=frame["flow"], action=what)
        return {**ended, "replies": reply(state, text)}
    result = as_json(outcome.result)
    map_outputs = getattr(inst.step, "map_outputs", None) or {}
    for problem in _unfitting(engine, name, result, map_outputs):
        engine.wiring_problem(problem)
    for key, slot in map_outputs.items():
        slots[slot] = as_declared(engine, slot, (result or {}).get(key))
    if not map_outputs:
        for key, value in (result or {}).items():
            if key in engine.slot_defs:
                slots[key] = as_declared(engine, key, value)
    return {**advance(state, inst.next), "slots": slots}


def _unfitting(
    engine: Engine, name: str, result: Mapping[str, Any], map_outputs: Mapping[str, str]
) -> list[str]:
    """How a handler's result does not fit what its action declares: a declared output
    it did not return, a key it returned that nothing declares or takes (it would be
    dropped without a word)."""
    declared = engine.config.actions.get(name)
    outputs = list(declared.outputs) if declared is not None else []
    problems: list[str] = []
    expected = outputs or list(map_outputs)
    missing = [key for key in expected if key not in result]
    if missing:
        problems.append(
            f"the handler of action {name!r} returned no {', '.join(map(repr, missing))} "
            f"(it returned {', '.join(map(repr, result)) or 'nothing'}); its slot stays unset"
        )
    if outputs:
        extra = [key for key in result if key not in outputs]
        why = "which its declared outputs do not name"
    else:
        extra = [key for key in result if key not in map_outputs and key not in engine.slot_defs]
        why = "which is no slot and no map_outputs key"
    if extra:
        problems.append(
            f"the handler of action {name!r} returned {', '.join(map(repr, extra))}, {why}: "
            "it is dropped" + did_you_mean(extra[0], outputs or engine.slot_defs, cutoff=0.7)
        )
    return problems


def as_declared(engine: Engine, slot: str, value: Any) -> Any:
    """An output as its slot's declared type: a date a handler returned is a date for
    the next handler and for templates ("2026-12-18", not its text), as a collected
    one is. A value the type cannot read stays as it came."""
    definition = engine.slot_defs.get(slot)
    if definition is None or value is None:
        return value
    try:
        return coerce(definition.kind, value, choices=definition.choices)
    except (SlotValueError, ValueError, TypeError):
        return value


def _as_approved(
    engine: Engine, slots: Mapping[str, Any], approved: Mapping[str, Any]
) -> dict[str, Any]:
    """The slots with the approved values put back where they changed since.

    The confirmation recorded them as JSON (a date as its text); an unchanged slot
    keeps its own value, a changed one gets the approved value read as its type.
    """
    arguments = dict(slots)
    for name, value in approved.items():
        if json.loads(json.dumps(slots.get(name), default=str)) == value:
            continue
        definition = engine.slot_defs.get(name)
        try:
            arguments[name] = (
                coerce(definition.kind, value, choices=definition.choices) if definition else value
            )
        except (SlotValueError, ValueError, TypeError):
            arguments[name] = value
    return arguments


def as_json(result: Mapping[str, Any] | None) -> dict[str, Any]:
    # Only what JSON can say (objects become text); a value for a declared slot is then
    # read back as its type (``as_declared``).
    safe: dict[str, Any] = json.loads(json.dumps(dict(result or {}), default=str))
    return safe


async def run_action(engine: Engine, state: ConversationState, turn: Turn) -> dict[str, Any]:
    inst = engine.instruction(state)
    assert inst is not None
    frame = current(state)
    assert frame is not None
    step = inst.step
    name: str = step.call
    declared = engine.config.actions.get(name)
    confirm = step.confirm or (declared.confirm if declared is not None else None)
    conversation = state.get("conversation_id", "")
    if not confirm:
        # One visit of this step: the same when a crashed turn is retried, and
        # when a turn cut off inside the handler is carried on by the next message
        # (LangGraph kept it standing here, with other turn and step counts);
        # distinct for each run in a loop, since leaving the step counts a move.
        # The generation counts resets: a conversation started afresh under the
        # same id must not meet the keys of the one before.
        epoch = state.get("generation") or 0
        key = f"{conversation}:{epoch}:{frame['id']}:{inst.id}:{frame.get('moves') or 0}"
        return await execute(engine, state, turn, inst, name, key)
    slots = state.get("slots") or {}
    offer = ActionCall(name, action_args(engine, name, slots))
    asked_at = f"{frame['id']}:{inst.id}"
    prompt = engine.render(confirm, slots, state, asked_at=asked_at)
    outcome = await gate(engine, state, turn, inst, [offer], prompt)
    if outcome.pause is not None:
        return outcome.pause
    record = outcome.decided
    assert record is not None
    if record.status in (Status.SKIPPED, Status.EXPIRED, Status.CANCELLED):
        what = name.replace("_", " ")
        own = says_its_own(engine, state, inst)
        text = closed_message(engine, state, record, what, acknowledged=not own)
        if "on_skip" in inst.targets:
            return {**advance(state, inst.targets["on_skip"]), "replies": reply(state, text)}
        return {**end_task(state), "replies": reply(state, text)}
    return await execute(engine, state, turn, inst, name, record.id, record, outcome.run)
