"""Pure operations on the flow stack; nodes build their state updates with these."""

from __future__ import annotations

from typing import Any

from soni.engine.state import ConversationState, Frame, Reply

__all__ = ("advance", "current", "end_task", "pop", "push", "reply")


def current(state: ConversationState) -> Frame | None:
    stack = state.get("stack") or []
    return stack[-1] if stack else None


def push(
    state: ConversationState, flow: str, *, returns: dict[str, str] | None = None
) -> dict[str, Any]:
    """Start ``flow`` on top of the stack (the flow below pauses where it is)."""
    count = (state.get("frames") or 0) + 1
    frame: Frame = {"id": f"f{count}", "flow": flow, "pos": 0, "returns": returns}
    return {"stack": [*(state.get("stack") or []), frame], "frames": count}


def advance(state: ConversationState, position: int, **changes: Any) -> dict[str, Any]:
    """Move the top frame to ``position``; clear its confirmation; count the move."""
    stack = list(state.get("stack") or [])
    moves = (stack[-1].get("moves") or 0) + 1
    top: Frame = {**stack[-1], "pos": position, "confirmation": None, "moves": moves}
    top.update(changes)  # type: ignore[typeddict-item]
    stack[-1] = top
    return {"stack": stack}


def pop(state: ConversationState) -> dict[str, Any]:
    """End the top flow. A called flow hands its outputs back and its caller moves on."""
    stack = list(state.get("stack") or [])
    if not stack:
        return {"stack": stack}
    finished = stack.pop()
    slots = dict(state.get("slots") or {})
    returns = finished.get("returns")
    # The caller already points past its call step (the call node moved it).
    for inner, outer in (returns or {}).items():
        slots[outer] = slots.get(inner)
    return {"stack": stack, "slots": slots}


def reply(state: ConversationState, *texts: str, kind: str = "text") -> list[Reply]:
    """The turn's replies with ``texts`` appended (empty texts skipped)."""
    replies = list(state.get("replies") or [])
    replies.extend({"text": t, "kind": kind} for t in texts if t)
    return replies


def end_task(state: ConversationState) -> dict[str, Any]:
    """End the top flow and, if it was called, the flows that called it.

    Used when the user's task is over without success (cancelled, denied,
    failed): a caller must not carry on with the outputs its sub-flow never
    produced. Nothing is handed back.
    """
    stack = list(state.get("stack") or [])
    while stack:
        finished = stack.pop()
        if finished.get("returns") is None:
            break
    return {"stack": stack}
