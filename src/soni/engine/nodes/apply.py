"""``apply``: carry out the turn's commands on the stack, the slots and confirmations.

The commands are applied in order, each by the function for its kind, to one
``_Applying``: the conversation as the commands before it left it, and what the bot
says about them. Then a value that changed anywhere walks the flows built on it
again (``_rewind``), and a decision typed in the chat is written — or left to the
guarded step it is for (``_settle``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from soni.confirmations import Actor
from soni.confirmations.decisions import interpret
from soni.confirmations.errors import ConfirmationError, InvalidDecision
from soni.engine.core import Engine
from soni.engine.stack import current, end_task, push, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Deferred, Turn
from soni.nlu import (
    Affirm,
    AskDecision,
    CancelFlow,
    Choose,
    Clarify,
    Command,
    CorrectSlot,
    Deny,
    Help,
    OutOfScope,
    SetSlot,
    StartFlow,
)

logger = logging.getLogger("soni.engine")


@dataclass(slots=True)
class _Applying:
    """One message's commands being applied.

    Attributes:
        engine: The bot.
        turn: The turn they are applied in.
        state: The conversation as the commands applied so far left it.
        texts: What the bot says about them, in order.
    """

    engine: Engine
    turn: Turn
    state: ConversationState
    texts: list[str] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        """Who decides or cancels in this message: its user, in the chat."""
        return Actor(self.state.get("user_id"), "chat")

    @property
    def flow(self) -> str | None:
        """The flow the conversation is in, whose own words its messages are said in."""
        frame = current(self.state)
        return frame["flow"] if frame is not None else None

    def say(self, name: str, *, in_flow: str | None = None, **values: Any) -> None:
        """Add the built-in message ``name``, filled from the state as it is now."""
        self.texts.append(self.engine.say(name, self.state, in_flow=in_flow, **values))


async def run_apply(
    engine: Engine, state: ConversationState, commands: Sequence[Command], turn: Turn
) -> dict[str, Any]:
    """The updates ``commands`` make to ``state``, and the replies they get."""
    applying = _Applying(engine, turn, state.copy())
    for command in commands:
        await _apply(applying, command)
    working = applying.state
    # A value that changed anywhere in this message (a correction, a flow started
    # with values, a /set in a digression) re-walks the flows built on the old one.
    after = working.get("slots") or {}
    for name, old in (state.get("slots") or {}).items():
        if old is not None and after.get(name) != old:
            await _rewind(applying, name)
    await _settle(applying)
    working["replies"] = reply(working, *applying.texts)
    working["waiting"] = None
    return {key: working.get(key) for key in ("stack", "slots", "frames", "replies", "waiting")}


async def _apply(applying: _Applying, command: Command) -> None:
    engine = applying.engine
    match command:
        case StartFlow():
            await _start_flow(applying, command)
        case SetSlot() | CorrectSlot():
            await _set_slot(applying, command.slot, command.value)
        case CancelFlow():
            await _cancel_flow(applying)
        case Affirm():
            await _decide(applying, "approve")
        case Deny():
            await _decide(applying, "skip")
        case Choose():
            await _decide(applying, str(command.option))
        case AskDecision():
            # "no, the amount is wrong": neither a plain no nor a new value. The
            # confirmation stays open; nothing is skipped on a guess.
            applying.say("ask_decision", in_flow=applying.flow)
        case Help():
            names = ", ".join(engine.flow_title(name) for name in engine.config.flows)
            applying.say("help", in_flow=applying.flow, flows=names)
        case Clarify():
            options = " or ".join(engine.flow_title(c) for c in command.candidates)
            applying.say("clarify", in_flow=applying.flow, flows=options)
        case OutOfScope():
            await _out_of_scope(applying)


async def _start_flow(applying: _Applying, command: StartFlow) -> None:
    engine, working = applying.engine, applying.state
    flow = command.flow
    if flow not in engine.config.flows:
        applying.say("unknown_flow", flow=flow)
        return
    stack = working.get("stack") or []
    if any(frame["flow"] == flow for frame in stack):
        # Slots are shared by the conversation: a second run of a flow would
        # overwrite the answers (and supersede the confirmation) of the first.
        # Carry on with the one already started.
        applying.say("already_running", in_flow=flow, flow=engine.flow_title(flow))
        return
    working["slots"] = engine.fresh_slots(working.get("slots") or {}, flow, stack)
    pushed = push(working, flow)
    working["stack"], working["frames"] = pushed["stack"], pushed["frames"]
    for name, value in command.slots.items():
        await _fill(applying, name, value)


async def _set_slot(applying: _Applying, slot: str, value: Any) -> None:
    before = (applying.state.get("slots") or {}).get(slot)
    await _fill(applying, slot, value)
    after = (applying.state.get("slots") or {}).get(slot)
    if before is not None and after != before:
        await _rewind(applying, slot)


async def _cancel_flow(applying: _Applying) -> None:
    engine, working = applying.engine, applying.state
    frame = current(working)
    if frame is None:
        applying.say("nothing_to_cancel")
        return
    pending = frame.get("confirmation")
    record = await engine.confirmation(pending, applying.turn) if pending else None
    if record is not None:
        cancelled = await engine.confirmations.cancel(record, actor=applying.actor)
        applying.turn.remember(cancelled)
    working["stack"] = end_task(working)["stack"]
    working["waiting"] = None
    flow = frame["flow"]
    applying.say("cancelled", in_flow=flow, flow=engine.flow_title(flow))


async def _decide(applying: _Applying, decision: str) -> None:
    """Check a decision typed in the chat and keep it for the step it is for.

    It is written by ``_settle`` once every command of the message is applied.
    """
    engine, working = applying.engine, applying.state
    waiting: dict[str, Any] = dict(working.get("waiting") or {})
    if waiting.get("kind") != "confirmation":
        applying.say("nothing_waiting", in_flow=applying.flow)
        return
    # The options never change: the record as registered is enough to check the
    # decision against, and the write that records it compares the stored status.
    record = engine.issued.get(waiting["confirmation"])
    if record is None:
        record = await engine.confirmation(waiting["confirmation"], applying.turn)
    if record is None:
        applying.say("no_longer_pending", in_flow=applying.flow)
        return
    if decision == "approve" and record.kind == "choice" and len(record.options) > 1:
        options = ", ".join((call.label or call.key) for call in record.actions)
        applying.say("which_one", in_flow=applying.flow, options=options)
        return
    try:
        interpret(record, decision)
    except InvalidDecision:
        offered = ", ".join(repr(call.label or call.key) for call in record.actions)
        applying.say("not_an_option", in_flow=applying.flow, option=repr(decision), options=offered)
        return
    applying.turn.decision = Deferred(record, decision, applying.actor)


async def _out_of_scope(applying: _Applying) -> None:
    if await _decided_elsewhere(applying):
        return
    message = applying.state.get("message") or {}
    recap = message.get("recap") if isinstance(message, dict) else None
    if recap:
        # Right after a decision made elsewhere, a "yes" or "no" is about it.
        applying.texts.extend(recap)
    else:
        applying.say("not_understood", in_flow=applying.flow)


async def _decided_elsewhere(applying: _Applying) -> bool:
    """The confirmation the conversation waits for was decided while it was away.

    Then this turn's answer is what became of it ("Done: …", "OK, I won't …"):
    whatever the message said ("thanks", "hello?") needs no apology before that.
    """
    working = applying.state
    waiting: Mapping[str, Any] = working.get("waiting") or {}
    if waiting.get("kind") == "confirmation":
        pending = waiting["confirmation"]
    else:
        # A turn cut off after the decision, before its step was done (cancelled
        # while the action ran): the step still holds its confirmation, and the
        # flow goes on to tell what became of it.
        frame = current(working)
        pending = frame.get("confirmation") if frame is not None else None
    if not pending:
        return False
    record = await applying.engine.confirmation(pending, applying.turn)
    return record is not None and not record.is_open


async def _settle(applying: _Applying) -> None:
    """Write the chat's decision — or leave it to the guarded step about to run.

    An approval for an action (or a choice) that runs in this turn is written by
    that step with the claim to run it, in one write; anything else — a skip, a
    ``confirm`` step, a decision whose step a digression put aside — now.
    """
    engine, turn, working = applying.engine, applying.turn, applying.state
    deferred = turn.decision
    if deferred is None:
        return
    frame = current(working)
    inst = engine.instruction(working)
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


async def _rewind(applying: _Applying, slot: str) -> None:
    """After a filled slot changed, walk again from where the slot was collected.

    The steps between — branches, validations, look-ups — may decide differently
    with the new value (an amount corrected above a limit must meet the branch that
    refuses it), and a question already asked was built from the old one. So:

    * the active flow, if it is past the slot's ``collect``, goes back to it; the
      steps that already have their answers pass straight through;
    * a paused flow (below a digression) that holds a confirmation built from the
      old value goes back too, when it resumes; its confirmation is withdrawn.
    """
    engine, working = applying.engine, applying.state
    stack = list(working.get("stack") or [])
    for index, frame in enumerate(stack):
        top = index == len(stack) - 1
        if not top and not frame.get("confirmation"):
            continue
        target = engine.collect_position(frame["flow"], slot)
        if target is None or target >= frame["pos"]:
            continue
        pending = frame.get("confirmation")
        record = await engine.confirmation(pending, applying.turn) if pending else None
        if record is not None and record.is_open:
            withdrawn = await engine.confirmations.supersede(record, actor=applying.actor)
            applying.turn.remember(withdrawn)
        stack[index] = {**frame, "pos": target, "confirmation": None}
    working["stack"] = stack


async def _fill(applying: _Applying, name: str, value: Any) -> None:
    """Store a checked value for ``name``, or say why it was refused, in this turn.

    The refusal is said here even when the flow is about to ask for the slot: the
    question that follows may never come (the slot still holds a value a paused
    flow collected), and a second copy must not come later.
    """
    engine, working = applying.engine, applying.state
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
    inst = engine.instruction(working)
    asked = inst if inst is not None and inst.kind == "collect" and inst.step.slot == name else None
    if asked is not None:
        validator, error = asked.step.validator, asked.step.validation_error_message
    frame = current(working)
    flow = frame["flow"] if frame is not None else None
    check = await engine.check_slot(name, value, slots, validator, error, flow=flow)
    if not check.ok:
        applying.texts.append(check.message)
        return
    slots[name] = check.value
    working["slots"] = slots
    if asked is not None and frame is not None:
        # Checked by the asking step's own rules: it need not check it again.
        applying.turn.checked.add((frame["id"], asked.id, name))
