"""``apply``: carry out the turn's commands on the stack, the slots and confirmations."""

from __future__ import annotations

import logging
from typing import Any

from soni.confirmations import Actor
from soni.confirmations.decisions import interpret
from soni.engine.core import Engine
from soni.engine.stack import current, end_task, push, reply
from soni.engine.state import ConversationState, Listening
from soni.engine.turn import Deferred, Turn
from soni.errors import ConfirmationError, InvalidDecision

logger = logging.getLogger("soni.engine")


async def _decide(
    engine: Engine, state: ConversationState, turn: Turn, decision: str
) -> str | None:
    """Check a decision typed in the chat and keep it for the step it is for.

    It is written by ``_settle`` once every command of the message is applied.
    """
    waiting: dict[str, Any] = dict(state.get("waiting") or {})
    if waiting.get("kind") != "confirmation":
        return engine.say("nothing_waiting", state, in_flow=_flow_of(state))
    # The options never change: the record as registered is enough to check the
    # decision against, and the write that records it compares the stored status.
    record = engine.issued.get(waiting["confirmation"])
    if record is None:
        record = await engine.confirmation(waiting["confirmation"], turn)
    if record is None:
        return engine.say("no_longer_pending", state, in_flow=_flow_of(state))
    if decision == "approve" and record.kind == "choice" and len(record.options) > 1:
        options = ", ".join((call.label or call.key) for call in record.actions)
        return engine.say("which_one", state, in_flow=_flow_of(state), options=options)
    try:
        interpret(record, decision)
    except InvalidDecision:
        offered = ", ".join(repr(call.label or call.key) for call in record.actions)
        flow = _flow_of(state)
        return engine.say(
            "not_an_option", state, in_flow=flow, option=repr(decision), options=offered
        )
    turn.decision = Deferred(record, decision, Actor(state.get("user_id"), "chat"))
    return None


def _flow_of(state: Any) -> str | None:
    """The flow the conversation is in, whose own words its messages are said in."""
    frame = current(state)
    return frame["flow"] if frame is not None else None


def _cancelled(engine: Engine, state: Any, flow: str) -> str:
    return engine.say("cancelled", state, in_flow=flow, flow=engine.flow_title(flow))


async def _settle(engine: Engine, working: dict[str, Any], turn: Turn) -> None:
    """Write the chat's decision — or leave it to the guarded step about to run.

    An approval for an action (or a choice) that runs in this turn is written by
    that step with the claim to run it, in one write; anything else — a skip, a
    ``confirm`` step, a decision whose step a digression put aside — now.
    """
    deferred = turn.decision
    if deferred is None:
        return
    frame = current(working)  # type: ignore[arg-type]
    inst = engine.instruction(working)  # type: ignore[arg-type]
    if (
        deferred.decision != "skip"
        and frame is not None
        and frame.get("confirmation") == deferred.confirmation_id
        and inst is not None
        and inst.kind in ("action", "choose")
    ):
        return
    turn.decision = None
    record = deferred.record
    try:
        decided = await engine.confirmations.decide(record, deferred.decision, actor=deferred.actor)
    except ConfirmationError as exc:
        # Expired, or decided or withdrawn elsewhere: the step reads the record.
        logger.info("decision in chat refused: %s", exc)
        turn.records.pop(record.id, None)
    else:
        turn.remember(decided)


async def _decided_elsewhere(engine: Engine, state: dict[str, Any], turn: Turn) -> bool:
    """The confirmation the conversation waits for was decided while it was away.

    Then this turn's answer is what became of it ("Done: …", "OK, I won't …"):
    whatever the message said ("thanks", "hello?") needs no apology before that.
    """
    waiting = state.get("waiting") or {}
    if waiting.get("kind") == "confirmation":
        pending = waiting["confirmation"]
    else:
        # A turn cut off after the decision, before its step was done (cancelled
        # while the action ran): the step still holds its confirmation, and the
        # flow goes on to tell what became of it.
        frame = current(state)  # type: ignore[arg-type]
        pending = frame.get("confirmation") if frame is not None else None
    if not pending:
        return False
    record = await engine.confirmation(pending, turn)
    return record is not None and not record.is_open


async def run_apply(engine: Engine, state: Listening, turn: Turn) -> dict[str, Any]:
    working: dict[str, Any] = dict(state)
    texts: list[str] = []
    for command in state.get("commands") or []:
        kind = command["kind"]
        if kind == "start_flow":
            flow = command["flow"]
            if flow not in engine.config.flows:
                texts.append(engine.say("unknown_flow", working, flow=flow))
                continue
            stack = working.get("stack") or []
            if any(frame["flow"] == flow for frame in stack):
                # Slots are shared by the conversation: a second run of a flow
                # would overwrite the answers (and supersede the confirmation) of
                # the first. Carry on with the one already started.
                title = engine.flow_title(flow)
                texts.append(engine.say("already_running", working, in_flow=flow, flow=title))
                continue
            working["slots"] = engine.fresh_slots(working.get("slots") or {}, flow, stack)
            working.update(push(working, flow))  # type: ignore[arg-type]
            for name, value in (command.get("slots") or {}).items():
                await _fill(engine, working, turn, name, value, texts)
        elif kind in ("set_slot", "correct_slot"):
            before = (working.get("slots") or {}).get(command["slot"])
            await _fill(engine, working, turn, command["slot"], command["value"], texts)
            after = (working.get("slots") or {}).get(command["slot"])
            if before is not None and after != before:
                await _rewind(engine, working, turn, command["slot"], state.get("user_id"))
        elif kind == "cancel_flow":
            frame = current(working)  # type: ignore[arg-type]
            if frame is None:
                texts.append(engine.say("nothing_to_cancel", working))
                continue
            pending = frame.get("confirmation")
            record = await engine.confirmation(pending, turn) if pending else None
            if record is not None:
                cancelled = await engine.confirmations.cancel(
                    record, actor=Actor(state.get("user_id"), "chat")
                )
                turn.remember(cancelled)
            working.update(end_task(working))  # type: ignore[arg-type]
            working["waiting"] = None
            texts.append(_cancelled(engine, working, frame["flow"]))
        elif kind in ("affirm", "deny", "choose"):
            decision = {"affirm": "approve", "deny": "skip"}.get(kind, command.get("option"))
            problem = await _decide(engine, working, turn, str(decision))  # type: ignore[arg-type]
            if problem:
                texts.append(problem)
        elif kind == "ask_decision":
            # "no, the amount is wrong": neither a plain no nor a new value. The
            # confirmation stays open; nothing is skipped on a guess.
            texts.append(engine.say("ask_decision", working, in_flow=_flow_of(working)))
        elif kind == "help":
            names = ", ".join(engine.flow_title(name) for name in engine.config.flows)
            texts.append(engine.say("help", working, in_flow=_flow_of(working), flows=names))
        elif kind == "clarify":
            options = " or ".join(engine.flow_title(c) for c in command["candidates"])
            texts.append(engine.say("clarify", working, in_flow=_flow_of(working), flows=options))
        elif kind == "out_of_scope" and not await _decided_elsewhere(engine, working, turn):
            message = working.get("message") or {}
            recap = message.get("recap") if isinstance(message, dict) else None
            # Right after a decision made elsewhere, a "yes" or "no" is about it.
            texts.extend(
                recap or [engine.say("not_understood", working, in_flow=_flow_of(working))]
            )
    # A value that changed anywhere in this message (a correction, a flow started
    # with values, a /set in a digression) re-walks the flows built on the old one.
    before = state.get("slots") or {}
    after = working.get("slots") or {}
    for name, old in before.items():
        if old is not None and after.get(name) != old:
            await _rewind(engine, working, turn, name, state.get("user_id"))
    await _settle(engine, working, turn)
    working["replies"] = reply(working, *texts)  # type: ignore[arg-type]
    working["waiting"] = None
    return {key: working.get(key) for key in ("stack", "slots", "frames", "replies", "waiting")}


async def _rewind(
    engine: Engine, working: dict[str, Any], turn: Turn, slot: str, user_id: str | None
) -> None:
    """After a filled slot changed, walk again from where the slot was collected.

    The steps between — branches, validations, look-ups — may decide differently
    with the new value (an amount corrected above a limit must meet the branch that
    refuses it), and a question already asked was built from the old one. So:

    * the active flow, if it is past the slot's ``collect``, goes back to it; the
      steps that already have their answers pass straight through;
    * a paused flow (below a digression) that holds a confirmation built from the
      old value goes back too, when it resumes; its confirmation is withdrawn.
    """
    stack = list(working.get("stack") or [])
    for index, frame in enumerate(stack):
        top = index == len(stack) - 1
        if not top and not frame.get("confirmation"):
            continue
        target = engine.collect_position(frame["flow"], slot)
        if target is None or target >= frame["pos"]:
            continue
        pending = frame.get("confirmation")
        record = await engine.confirmation(pending, turn) if pending else None
        if record is not None and record.is_open:
            withdrawn = await engine.confirmations.supersede(record, actor=Actor(user_id, "chat"))
            turn.remember(withdrawn)
        stack[index] = {**frame, "pos": target, "confirmation": None}
    working["stack"] = stack


async def _fill(
    engine: Engine,
    working: dict[str, Any],
    turn: Turn,
    name: str,
    value: Any,
    texts: list[str],
) -> None:
    """Store a checked value for ``name``, or say why it was refused, in this turn.

    The refusal is said here even when the flow is about to ask for the slot: the
    question that follows may never come (the slot still holds a value a paused
    flow collected), and a second copy must not come later.
    """
    if name not in engine.known_slots:
        # Structured messages are checked when read; this is understanding
        # inventing a name no step reads.
        logger.warning("understanding gave a value for unknown slot %r; ignored", name)
        return
    slots = dict(working.get("slots") or {})
    if isinstance(value, str):
        # A lone surrogate (a JSON "\udc00" escape) cannot be stored as UTF-8.
        value = value.encode("utf-8", "replace").decode("utf-8")
    # The collect step asking for this slot may add its own validator and message.
    validator = error = None
    inst = engine.instruction(working)  # type: ignore[arg-type]
    asked = inst if inst is not None and inst.kind == "collect" and inst.step.slot == name else None
    if asked is not None:
        validator, error = asked.step.validator, asked.step.validation_error_message
    frame = current(working)  # type: ignore[arg-type]
    flow = frame["flow"] if frame is not None else None
    check = await engine.check_slot(name, value, slots, validator, error, flow=flow)
    if check.ok:
        slots[name] = check.value
        working["slots"] = slots
        if asked is not None and frame is not None:
            # Checked by the asking step's own rules: it need not check it again.
            turn.checked.add((frame["id"], asked.id, name))
    else:
        texts.append(check.message)
