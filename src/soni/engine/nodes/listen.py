"""``wait`` and ``understand``: where a turn starts.

``wait`` is the only node that pauses (``interrupt``), and it does nothing else,
so re-running it on resume is harmless. ``understand`` turns the message into
commands: structured messages directly, anything else through the bot's
Understanding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langgraph.types import interrupt

from soni.engine.core import Engine
from soni.engine.state import ConversationState
from soni.engine.turn import Turn
from soni.nlu import (
    Command,
    ConversationContext,
    OutOfScope,
    PendingInfo,
    SetSlot,
    SlotInfo,
    StartFlow,
    is_structured,
    parse_structured,
)
from soni.nlu.errors import StructuredMessageError


@dataclass(frozen=True, slots=True)
class Understood:
    """What a message means: the commands to apply, or why it cannot be applied.

    The commands live only inside the node that understands and applies them
    (``graph.run_listen``): they are never part of the conversation's state.
    """

    commands: list[Command]
    error: str | None = None


async def run_wait(engine: Engine, state: ConversationState) -> ConversationState:
    message = interrupt({"waiting": state.get("waiting")})
    updates: ConversationState = {"message": message, "replies": [], "steps": 0}
    if isinstance(message, dict) and message.get("user_id") is not None:
        updates["user_id"] = message["user_id"]
    return updates


async def _context(engine: Engine, state: ConversationState, turn: Turn) -> ConversationContext:
    waiting: dict[str, Any] = dict(state.get("waiting") or {})
    stack = state.get("stack") or []
    flow = stack[-1]["flow"] if stack else None
    expected = None
    if waiting.get("kind") == "slot":
        expected = engine.slot_info(waiting["slot"], flow) or SlotInfo(waiting["slot"], "any")
    pending = None
    confirm_step = False
    if waiting.get("kind") == "confirmation":
        record = engine.issued.get(waiting["confirmation"]) or await engine.confirmation(
            waiting["confirmation"], turn
        )
        if record is not None:
            pending = PendingInfo(
                record.id,
                options=record.options,
                labels={call.key: call.label for call in record.actions if call.label},
            )
        inst = engine.instruction(state)
        confirm_step = inst is not None and inst.kind == "confirm"
    return ConversationContext(
        active_flow=flow,
        expected_slot=expected,
        slots=dict(state.get("slots") or {}),
        pending=pending,
        awaiting_confirm_step=confirm_step,
        flows=engine.flow_infos,
        slot_types=engine.slot_types(flow),
        today=engine.today(),
    )


def _unknown_slot(engine: Engine, commands: list[Command]) -> str | None:
    """Why a structured message cannot be applied: it names a slot the bot does not know."""
    for command in commands:
        if isinstance(command, SetSlot):
            names: list[str] = [command.slot]
        elif isinstance(command, StartFlow) and command.flow in engine.config.flows:
            names = list(command.slots)
        else:
            continue
        for name in names:
            problem = engine.unknown_slot(name)
            if problem is not None:
                return problem
    return None


def _slash_answer(
    engine: Engine, state: ConversationState, text: str, commands: list[Command]
) -> SetSlot | None:
    """``/word`` typed for a question, when it names no flow: the answer, not a command.

    "Which folder?" may well be answered "/tmp"; only a bot with a flow ``tmp``
    reads that as starting it.
    """
    waiting: dict[str, Any] = dict(state.get("waiting") or {})
    if waiting.get("kind") != "slot" or len(commands) != 1 or "{" in text:
        return None
    [command] = commands
    if not isinstance(command, StartFlow) or command.flow in engine.config.flows:
        return None
    return SetSlot(waiting["slot"], text.strip())


async def run_understand(engine: Engine, state: ConversationState, turn: Turn) -> Understood:
    message = state.get("message") or {}
    text = message.get("text") if isinstance(message, dict) else None
    if text is None:  # resumed by an out-of-band decision: nothing to understand
        return Understood([])
    if is_structured(text):
        try:
            commands = parse_structured(text)
        except StructuredMessageError as exc:
            return Understood([], error=str(exc))
        answer = _slash_answer(engine, state, text, commands)
        if answer is not None:
            return Understood([answer])
        # A typo in a script or button must not store a slot no step reads: the
        # whole message is refused, as a malformed one is.
        problem = _unknown_slot(engine, commands)
        if problem is not None:
            return Understood([], error=problem)
    else:
        try:
            commands = await engine.understanding.understand(
                text, await _context(engine, state, turn)
            )
        except Exception:  # understanding must never take the conversation down
            commands = [OutOfScope(text)]
    return Understood(list(commands))
