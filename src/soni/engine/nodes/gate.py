"""The pause before a guarded step: register a pending confirmation, wait, read the decision.

Shared by ``action`` (with ``confirm``), ``choose`` and ``confirm`` steps. The key
of the confirmation is conversation + flow frame + step, so re-running the node
(a re-ask after a digression, a re-run after a crash) finds the same confirmation,
and a corrected value supersedes it with a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from soni.confirmations import ActionCall, PendingConfirmation, Status
from soni.engine.core import Engine
from soni.engine.program import Instruction
from soni.engine.stack import current, reply
from soni.engine.state import ConversationState

__all__ = ("Gate", "gate")

_DECIDED = frozenset(
    {Status.APPROVED, Status.EXECUTING, Status.EXECUTED, Status.FAILED, Status.SKIPPED,
     Status.EXPIRED, Status.CANCELLED}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Gate:
    """Either updates that pause the conversation, or the decided confirmation."""

    pause: dict[str, Any] | None = None
    decided: PendingConfirmation | None = None


async def gate(
    engine: Engine,
    state: ConversationState,
    inst: Instruction,
    offers: Sequence[ActionCall],
    prompt: str,
) -> Gate:
    frame = current(state)
    assert frame is not None
    conversation_id = state.get("conversation_id", "")
    known = frame.get("confirmation")
    if known is not None:
        record = await engine.confirmations.get_by_id(known)
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
    stack = list(state.get("stack") or [])
    stack[-1] = {**stack[-1], "confirmation": record.id}
    return Gate(
        pause={
            "stack": stack,
            "replies": reply(state, prompt, kind="confirmation"),
            "waiting": {"kind": "confirmation", "confirmation": record.id},
        }
    )


def closed_message(engine: Engine, record: PendingConfirmation, what: str) -> str:
    if record.status is Status.EXPIRED:
        return f"The request to {what} expired, so I did not do it."
    return f"OK, I won't {what}."
