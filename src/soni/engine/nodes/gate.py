"""The pause before a guarded step: register a pending confirmation, wait, read the decision.

Shared by ``action`` (with ``confirm``), ``choose`` and ``confirm`` steps. The key
of the confirmation is conversation + flow frame + step, so re-running the node
(a re-ask after a digression, a re-run after a crash) finds the same confirmation,
and a corrected value supersedes it with a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from soni.confirmations import ActionCall, Execution, PendingConfirmation, Status
from soni.confirmations.errors import ConfirmationError
from soni.dsl.program import Instruction
from soni.engine.core import Engine
from soni.engine.stack import current, reply
from soni.engine.state import ConversationState
from soni.engine.turn import Turn

__all__ = ("Gate", "gate")

logger = logging.getLogger("soni.engine")

_DECIDED = frozenset(
    {Status.APPROVED, Status.EXECUTING, Status.EXECUTED, Status.FAILED, Status.INTERRUPTED,
     Status.SKIPPED, Status.EXPIRED, Status.CANCELLED}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Gate:
    """Either updates that pause the conversation, or the decided confirmation.

    ``run`` is set when the gate itself recorded the chat's approval together with
    the claim to run the action: the caller runs it without ``begin_execution``.
    """

    pause: dict[str, Any] | None = None
    decided: PendingConfirmation | None = None
    run: Execution | None = None


async def gate(
    engine: Engine,
    state: ConversationState,
    turn: Turn,
    inst: Instruction,
    offers: Sequence[ActionCall],
    prompt: str,
) -> Gate:
    frame = current(state)
    assert frame is not None
    conversation_id = state.get("conversation_id", "")
    known = frame.get("confirmation")
    if known is not None:
        deferred = turn.take_decision(known)
        if deferred is not None:
            try:
                run = await engine.confirmations.decide_and_begin(
                    deferred.record, deferred.decision, actor=deferred.actor
                )
            except ConfirmationError as exc:
                # Expired, or decided or withdrawn elsewhere: go by what is stored.
                logger.info("decision in chat refused: %s", exc)
                turn.records.pop(known, None)
            else:
                return Gate(decided=turn.remember(run.confirmation), run=run)
        record = await engine.confirmation(known, turn)
        if record is not None and record.is_open:
            # Time may have run out while the flow was put aside (a digression):
            # that is an expiry, whether or not the sweeper has recorded it yet.
            record = turn.remember(await engine.confirmations.expire_if_due(record))
        if record is not None and record.status in _DECIDED:
            return Gate(decided=record)
    record, _token = await engine.confirmations.register(
        conversation_id=conversation_id,
        user_id=state.get("user_id"),
        actions=offers,
        prompt=prompt,
        key=f"{conversation_id}:{frame['id']}:{inst.id}",
        ttl=engine.config.settings.confirmations.ttl,
        kind="choice" if len(offers) > 1 or inst.kind == "choose" else "single",
    )
    turn.remember(record)
    engine.remember_issued(record)
    stack = list(state.get("stack") or [])
    stack[-1] = {**stack[-1], "confirmation": record.id}
    return Gate(
        pause={
            "stack": stack,
            "replies": reply(state, prompt, kind="confirmation"),
            "waiting": {"kind": "confirmation", "confirmation": record.id},
        }
    )


def says_its_own(engine: Engine, state: ConversationState, inst: Instruction) -> bool:
    """Whether the step's ``on_skip`` goes to a step that says something of its own (a
    ``say``, an ``end`` with a message): then no default "OK, I won't …" comes first.
    An ``on_skip`` to a silent step keeps the acknowledgement: a skip is never unanswered."""
    frame = current(state)
    target = inst.targets.get("on_skip")
    if frame is None or target is None:
        return False
    instructions = engine.programs[frame["flow"]].instructions
    if not 0 <= target < len(instructions):
        return False
    there = instructions[target]
    return there.kind in ("say", "end") and bool(getattr(there.step, "message", None))


def closed_message(
    engine: Engine,
    state: ConversationState,
    record: PendingConfirmation,
    what: str,
    *,
    acknowledged: bool = True,
) -> str:
    """What is said when a guarded step's confirmation closed without a run: that it
    expired, or "OK, I won't …" — unless ``acknowledged`` is false (the step's own
    ``on_skip`` says what happens next, so the default would be a second one)."""
    frame = current(state)
    flow = frame["flow"] if frame is not None else None
    if record.status is Status.EXPIRED:
        return engine.say("expired", state, in_flow=flow, action=what)
    if not acknowledged:
        return ""
    return engine.say("skipped", state, in_flow=flow, action=what)
